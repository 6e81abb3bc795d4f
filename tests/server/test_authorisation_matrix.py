"""Every route × every role × own and other organisation; and CSRF on every state-changing route.

Routes come from the application itself, so a new route is in the matrix the day it is added;
a route the running app serves that the matrix does not hold fails a test, and a route without
an access rule stops the app from starting (server.access). Every response the matrix gets also
carries the security headers and cookie flags (tests/server/security_checks.py). A volunteer whose
pledge is not recorded tries every route open to volunteers, and every route with two ids is tried
with one of them from another organisation.
"""

from __future__ import annotations

import contextlib
import inspect
import re
from dataclasses import dataclass, field

import msgspec
import pytest
from litestar import Litestar, get
from litestar.di import Provide

from server.access import PUBLIC, access_rule, guard, roles
from server.accounts import store
from server.accounts.tables import Device, Invitation, User, UserSession
from server.app import ROUTE_HANDLERS, _require_access_rules, openapi_config
from server.errors import NotAuthenticated, NotFound
from server.organisations import store as organisations
from tests.conftest import csrf_headers, login, make_client
from tests.server.security_checks import assert_secure_response

ACTORS = [None, "volunteer", "coordinator", "admin"]
PASSWORD = "matrix-password-1"


def _served(app: Litestar) -> list[tuple[str, str, object]]:
    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                found.append((method, route.path, access_rule(handler)))
    return found


def _routes() -> list[tuple[str, str, object]]:
    # Only the route table is read; the dependencies are never called.
    dependencies = {name: Provide(lambda: None, sync_to_thread=False) for name in ("settings", "clock")}
    return _served(Litestar(route_handlers=ROUTE_HANDLERS, dependencies=dependencies, openapi_config=openapi_config()))


ROUTES = _routes()
SESSION_ENDERS = {"/logout", "/api/session"}
CREDENTIAL_CHECKS = {"/login"}  # 401 is their answer to the empty credentials sent here


@dataclass
class Org:
    id: object
    users: dict = field(default_factory=dict)  # role -> user id
    devices: dict = field(default_factory=dict)  # role -> device id
    second_volunteer: object = None
    second_device: object = None
    secret_name: str = ""
    conflict: object = None
    client: object = None
    request: object = None
    reference: str = ""
    offer: object = None
    assignment: object = None
    visit_log: object = None
    message: object = None
    event: object = None
    entry: object = None
    howto: object = None
    suggestion: object = None


async def _organisation(name: str, secret: str, now) -> Org:
    org = Org(id=await organisations.create_organisation(name, now), secret_name=secret)
    for role in ("volunteer", "coordinator", "admin"):
        username = f"{role}-{name.lower()[:4]}"
        user_id = await store.create_user(
            organisation_id=org.id, username=username, display_name=f"{secret} {role}", role=role,
            password=PASSWORD, now=now,
        )
        org.users[role] = user_id
        org.devices[role] = await store.create_device(user_id, "Handy", now)
    org.second_volunteer = await store.create_user(
        organisation_id=org.id, username=f"second-{name.lower()[:4]}", display_name=f"{secret} second", role="volunteer",
        password=PASSWORD, now=now,
    )
    org.second_device = await store.create_device(org.second_volunteer, "Handy", now)
    org.conflict = await _conflict(org, now)
    await _coordination(org, now)
    return org


async def _coordination(org: Org, now) -> None:
    """A client, a public request, an open offer to the volunteer, an assignment, a submitted log."""
    import uuid

    from server import sync_store
    from server.clients.store import create_client
    from server.requests import store as requests
    from sync.types import Actor, Mutation

    org.client = await create_client(org.id, now, alias=f"{org.secret_name} Klientin", languages=["ar"])
    common = dict(language="ar", purpose="arzt", place=f"{org.secret_name} Praxis")
    offered = await requests.create_request(org.id, now, source="public", status="new", client=org.client, **common)
    org.request, org.reference = offered.id, offered.reference
    assert await requests.make_offers(offered, org.id, [org.users["volunteer"]], now) == 1
    org.offer = (await requests.offers_of_request(offered.id, org.id))[0].id
    taken = await requests.create_request(org.id, now, source="coordinator", status="matching", client=org.client, **common)
    await requests.make_offers(taken, org.id, [org.users["volunteer"]], now)
    accepted = (await requests.offers_of_request(taken.id, org.id))[0].id
    assert await requests.answer_offer(accepted, org.users["volunteer"], org.id, True, now) == "accepted"
    org.assignment = (await requests.list_assignments(org.id, request_id=taken.id))[0].id
    org.visit_log = uuid.uuid4()
    volunteer = Actor(user_id=org.users["volunteer"], organisation_id=org.id, role="volunteer")
    log = Mutation(mutation_id=1, entity="visit_log", id=org.visit_log, op="upsert",
                   fields={"place_name": f"{org.secret_name} Amt", "status": "submitted", "date": "2026-03-02",
                           "help_kind": "legal", "help_reason": f"{org.secret_name} Frist"})
    [result] = await sync_store.apply_push(User._meta.db, volunteer, [log], now, uuid.uuid4)
    assert result.status == "applied"
    from server.messages import store as messages
    from server.messages.tables import Message

    assert await messages.send(org.id, org.users["coordinator"], f"{org.secret_name} Treffen", "Text", messages.Audience(), now) == 2
    org.message = (await Message.select(Message.id).where(Message.organisation == org.id).first())["id"]
    from datetime import timedelta

    from server.events import store as events

    org.event = await events.create_event(org.id, now, kind="training", title=f"{org.secret_name} Schulung",
                                          starts_at=now + timedelta(days=3))
    await _wegweiser(org, now)
    for module in await events.modules(org.id):  # both volunteers have their certificate
        for volunteer in (org.users["volunteer"], org.second_volunteer):
            await events.complete(module.id, volunteer, now.date())


async def _wegweiser(org: Org, now) -> None:
    """A directory entry (not shared: another organisation must not reach it), a how-to linked to
    it, and a volunteer's suggested correction."""
    from server.directory import store as directory

    values = {"name": f"{org.secret_name} Beratung", "category": "beratungsstelle", "address": "", "opening_hours": "",
              "phone": "", "languages": [], "help_kinds": ["legal"], "bring": "", "notes": "", "last_checked": None,
              "shared": False}
    org.entry = await directory.create_entry(org.id, now, values)
    org.howto = await directory.create_howto(org.id, now, {
        "title": f"{org.secret_name} Anleitung", "body": "", "checklist": ["Pass"], "entries": [str(org.entry)],
        "place_types": [], "topics": []})
    entry = await directory.get_entry(org.entry, org.id)
    org.suggestion = await directory.suggest(entry, org.users["volunteer"], f"{org.secret_name} Hinweis", now)


async def _conflict(org: Org, now) -> object:
    """A conflict on a note of the volunteer: the coordinator and the volunteer both edit it."""
    import uuid

    from server import sync_store
    from sync.types import Actor, Mutation

    await store.update_user(org.users["volunteer"], org.id, pledge_signed_on=now.date())
    engine = User._meta.db
    volunteer = Actor(user_id=org.users["volunteer"], organisation_id=org.id, role="volunteer", device_id=org.devices["volunteer"])
    coordinator = Actor(user_id=org.users["coordinator"], organisation_id=org.id, role="coordinator")
    note = uuid.uuid4()
    edit = lambda number, text, base: Mutation(mutation_id=number, entity="note", id=note, op="upsert", base_version=base,  # noqa: E731
                                               fields={"body": text})
    await sync_store.apply_push(engine, volunteer, [edit(1, f"{org.secret_name} Notiz", None)], now, uuid.uuid4)
    await sync_store.apply_push(engine, coordinator, [edit(1, "Koordination", 1)], now, uuid.uuid4)
    [result] = await sync_store.apply_push(engine, volunteer, [edit(2, "Lotse", 1)], now, uuid.uuid4)
    assert result.status == "conflict"
    return result.conflict_id


@pytest.fixture
async def world(app, clock):
    return {
        "own": await _organisation("Alpha", "Alphaperson", clock()),
        "other": await _organisation("Beta", "Betaperson", clock()),
    }


def _fill(path: str, org: Org, actor: str | None, foreign: Org | None = None, foreign_names: tuple = ()) -> str:
    """Put ids of one organisation into a route path, choosing what the route is about; the
    placeholders in foreign_names get the ids of the foreign organisation instead."""
    own, other = _values(path, org, actor), _values(path, foreign or org, actor)
    return re.sub(r"{(\w+)(?::\w+)?}", lambda m: str((other if m.group(1) in foreign_names else own)[m.group(1)]), path)


def _values(path: str, org: Org, actor: str | None) -> dict:
    return {
        "volunteer_id": org.second_volunteer,
        "user_id": org.second_volunteer,
        "organisation_id": org.id,
        "device_id": org.devices.get(actor or "volunteer") if path.startswith("/devices") else org.second_device,
        "token": "no-such-token",
        "conflict_id": org.conflict,
        "client_id": org.client,
        "request_id": org.request,
        "reference": org.reference,
        "offer_id": org.offer,
        "assignment_id": org.assignment,
        "log_id": org.visit_log,
        "message_id": org.message,
        "event_id": org.event,
        "file_path": "app.css",  # /static/
        "path": "openapi.json",  # /api/schema/
        "entry_id": org.entry,
        "howto_id": org.howto,
        "suggestion_id": org.suggestion,
    }


@contextlib.asynccontextmanager
async def _client_for(app, actor: str | None):
    """A browser of the given role in the organisation "Alpha" (None: signed out)."""
    async with make_client(app) as http:
        if actor:
            response = await login(http, f"{actor}-alph", PASSWORD)
            assert response.status_code == 303, response.text
        yield http


def _allowed(rule, actor) -> bool:
    return rule == PUBLIC or (actor is not None and (rule == "signed_in" or (isinstance(rule, frozenset) and actor in rule)))


@pytest.mark.parametrize(("method", "path", "rule"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
async def test_authorisation_matrix(app, world, method, path, rule):
    own, other = world["own"], world["other"]
    # Public routes about an organisation (its request form) are open for every organisation.
    has_ids = "{" in path and "{token" not in path and rule != PUBLIC
    for actor in ACTORS:
        async with _client_for(app, actor) as http:
            headers = await csrf_headers(http)
            foreign = await http.request(method, _fill(path, other, actor), headers=headers)
            assert foreign.status_code != 500, (actor, foreign.text)
            assert_secure_response(foreign)
            if not _allowed(rule, actor):
                expected = 401 if actor is None else 404
                assert foreign.status_code == expected, (actor, method, path, foreign.status_code)
            elif has_ids and actor != "admin":
                assert foreign.status_code == 404, (actor, method, path, foreign.status_code)
            if actor != "admin":
                assert other.secret_name not in foreign.text, (actor, method, path)
            if path in SESSION_ENDERS:
                continue  # the first request signed this browser out
            mine = await http.request(method, _fill(path, own, actor), headers=headers)
            assert mine.status_code != 500, (actor, mine.text)
            assert_secure_response(mine)
            if _allowed(rule, actor) and "{token" not in path and path not in CREDENTIAL_CHECKS:
                assert mine.status_code not in (401, 403, 404), (actor, method, path, mine.status_code, mine.text[:300])
            if actor != "admin":
                assert other.secret_name not in mine.text, (actor, method, path)


async def test_the_matrix_holds_every_route_the_app_serves(app):
    assert sorted(_served(app), key=str) == sorted(ROUTES, key=str)


VOLUNTEER_ROUTES = [(m, p, r) for m, p, r in ROUTES if _allowed(r, "volunteer")]


async def _client_data() -> bytes:
    from server.assignments.tables import Assignment
    from server.clients.tables import Client
    from server.notes.tables import Note
    from server.requests.tables import HelpRequest, Offer
    from server.sync_tables import SyncConflict
    from server.visits.tables import VisitLog

    rows = []
    for table in (Client, HelpRequest, Offer, Assignment, Note, VisitLog, SyncConflict):
        rows.append(sorted(map(str, await table.select())))
    return msgspec.json.encode(rows)


@pytest.mark.parametrize(("method", "path", "rule"), VOLUNTEER_ROUTES, ids=[f"{m} {p}" for m, p, _ in VOLUNTEER_ROUTES])
async def test_a_volunteer_before_the_pledge_sees_and_changes_no_client_data(app, world, method, path, rule):
    """The volunteer of "Alpha" has an offer, an assignment, a visit log and a note; until a pledge
    is recorded (here: taken back after a wrong entry) none of it, nor the client, reaches them."""
    own = world["own"]
    assert await store.update_user(own.users["volunteer"], own.id, pledge_signed_on=None)
    client_data = [f"{own.secret_name} Klientin", f"{own.secret_name} Praxis", f"{own.secret_name} Amt"]
    before = await _client_data()
    async with _client_for(app, "volunteer") as http:
        response = await http.request(method, _fill(path, own, "volunteer"), headers=await csrf_headers(http))
    assert response.status_code < 500, response.text
    assert_secure_response(response)
    for text in client_data:
        assert text not in response.text, (method, path, text)
    assert await _client_data() == before


TWO_IDS = [(m, p, r) for m, p, r in ROUTES if len(re.findall(r"{\w+", p)) > 1]


def _actor_for(rule) -> str | None:
    if rule == PUBLIC:
        return None
    return next((role for role in ("coordinator", "volunteer", "admin") if _allowed(rule, role)), None)


@pytest.mark.parametrize(("method", "path", "rule"), TWO_IDS, ids=[f"{m} {p}" for m, p, _ in TWO_IDS])
async def test_a_route_with_two_ids_finds_nothing_when_one_is_another_organisations(app, world, method, path, rule):
    own, other = world["own"], world["other"]
    actor = _actor_for(rule)
    names = re.findall(r"{(\w+)", path)
    async with _client_for(app, actor) as http:
        headers = await csrf_headers(http)
        before = (await _snapshot(), await _client_data())
        for name in names:
            response = await http.request(method, _fill(path, own, actor, other, (name,)), headers=headers)
            assert response.status_code == 404, (name, response.status_code, response.text[:300])
            assert other.secret_name not in response.text
            assert_secure_response(response)
        assert (await _snapshot(), await _client_data()) == before


STATE_CHANGING = [(m, p, r) for m, p, r in ROUTES if m in ("POST", "PUT", "PATCH", "DELETE")]


async def _snapshot() -> bytes:
    rows = []
    for table in (User, Device, UserSession, Invitation):
        rows.append(sorted(map(str, await table.select())))
    return msgspec.json.encode(rows)


@pytest.mark.parametrize(("method", "path", "rule"), STATE_CHANGING, ids=[f"{m} {p}" for m, p, _ in STATE_CHANGING])
async def test_every_state_changing_route_refuses_a_request_without_csrf_token(app, world, method, path, rule):
    actor = "admin" if isinstance(rule, frozenset) and "admin" in rule else (
        "coordinator" if isinstance(rule, frozenset) and "coordinator" in rule else "volunteer")
    async with _client_for(app, actor) as http:
        before = await _snapshot()
        target = _fill(path, world["own"], actor)
        for kind in ("form", "text", "json", "forged"):
            if kind == "form":
                response = await http.request(method, target, data={"active": "0", "login": "x"})
            elif kind == "text":
                response = await http.request(method, target, content=b"a=b", headers={"content-type": "text/plain"})
            elif kind == "json":
                response = await http.request(method, target, json={"login": "x", "password": "y"})
            else:
                response = await http.request(method, target, data={"_csrf_token": "forged" * 20})
            assert response.status_code in (403, 415), (kind, response.status_code)
        assert await _snapshot() == before


def test_a_route_without_a_rule_stops_the_start():
    @get("/forgotten")
    async def forgotten() -> str:
        return "open by omission"

    with pytest.raises(RuntimeError, match="/forgotten"):
        _require_access_rules(Litestar([forgotten]))


def test_unknown_roles_are_a_programming_error():
    with pytest.raises(ValueError):
        roles("superuser")


class _Handler:
    opt = roles("coordinator")


class _Connection:
    def __init__(self, role: str | None):
        self.scope = {"user": type("User", (), {"role": role})() if role else None, "method": "GET"}


async def test_the_guard_lets_the_named_role_through_and_hides_the_page_from_others():
    # A plain function guard Litestar would run in a thread, one hop on every request.
    assert inspect.iscoroutinefunction(guard)
    await guard(_Connection("coordinator"), _Handler())
    for role in ("volunteer", "admin"):
        with pytest.raises(NotFound):
            await guard(_Connection(role), _Handler())
    with pytest.raises(NotAuthenticated):
        await guard(_Connection(None), _Handler())
