"""The offline shell through HTTP: what the service worker may keep, and for whom."""

from __future__ import annotations

import json
import re
import uuid

import pytest

import pwa
from server.accounts.tables import User
from server.offline.views import service_worker
from server.assignments.tables import Assignment
from server.visits.tables import VisitLog
from tests.conftest import csrf_headers, signed_in, visible_text


@pytest.fixture
async def demo_records(app, clock):
    """The demo with its assignments, visit logs and notes."""
    from server import demo as demo_data

    await demo_data.seed(clock(), records=True)


async def test_the_worker_is_served_at_the_root_uncached_with_its_version_and_every_shell_file(client):
    answer = await client.get("/sw.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/javascript")
    assert answer.headers["cache-control"] == "no-cache"
    assert answer.headers["service-worker-allowed"] == "/"
    assert "set-cookie" not in answer.headers  # nothing personal in the shell
    version = re.search(r'const VERSION = "([0-9a-f]{16})";', answer.text)
    shell = json.loads(re.search(r"const SHELL = (\[.*?\]);", answer.text).group(1))
    assert version and "__" not in answer.text.split("const PAGE_TIMEOUT_MS")[0]
    on_disk = {f"/static/{p.relative_to(pwa.STATIC).as_posix()}" for p in pwa.STATIC.rglob("*")
               if p.suffix in {".css", ".js", ".png", ".svg"}}
    assert on_disk <= set(shell) and {"/offline", "/manifest.webmanifest"} <= set(shell)
    for url in shell:
        fetched = await client.get(url)
        assert fetched.status_code == 200, url


def test_the_worker_version_changes_with_any_shell_file(monkeypatch, tmp_path):
    before = service_worker()
    service_worker.cache_clear()
    static = tmp_path / "static"
    static.mkdir()
    for path in pwa.STATIC.rglob("*"):
        if path.is_file():
            target = static / path.relative_to(pwa.STATIC)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    (static / "app.css").write_text((static / "app.css").read_text() + "\n/* changed */\n")
    monkeypatch.setattr(pwa, "STATIC", static)
    try:
        after = service_worker()
    finally:
        service_worker.cache_clear()
    assert re.search(rb'VERSION = "(\w+)"', before).group(1) != re.search(rb'VERSION = "(\w+)"', after).group(1)


async def test_static_text_is_gzipped_once_at_startup_and_each_representation_has_its_tag(client, monkeypatch):
    import gzip

    from server.offline import static

    static.index()  # read at the first request: here, before compressing is counted
    calls = []
    monkeypatch.setattr(gzip, "compress", lambda *args, **kwargs: calls.append(args) or b"")
    monkeypatch.setattr(gzip, "GzipFile", None)  # the response compression would need it
    on_disk = (pwa.STATIC / "js" / "app.js").read_bytes()
    first = await client.get("/static/js/app.js", headers={"accept-encoding": "gzip"})
    again = await client.get("/static/js/app.js", headers={"accept-encoding": "gzip"})
    assert calls == []  # neither request compressed anything
    assert first.headers["content-encoding"] == "gzip" and "accept-encoding" in first.headers["vary"].lower()
    assert first.content == again.content == on_disk  # httpx decoded both
    assert int(first.headers["content-length"]) < len(on_disk) // 2
    plain = await client.get("/static/js/app.js", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == on_disk
    assert plain.headers["etag"] != first.headers["etag"]
    for answer in (first, plain):  # each tag names its own representation
        same = await client.get("/static/js/app.js", headers={"accept-encoding": answer.request.headers["accept-encoding"],
                                                              "if-none-match": answer.headers["etag"]})
        assert same.status_code == 304
    other = await client.get("/static/js/app.js", headers={"accept-encoding": "identity", "if-none-match": first.headers["etag"]})
    assert other.status_code == 200 and other.content == on_disk
    png = await client.get("/static/icons/apple-touch-icon-180.png", headers={"accept-encoding": "gzip"})
    assert png.status_code == 200 and "content-encoding" not in png.headers  # compressed already


async def test_pages_are_gzipped_for_a_phone_that_accepts_it(client):
    page = await client.get("/login", headers={"accept-encoding": "gzip"})
    assert page.headers["content-encoding"] == "gzip" and "<form" in page.text
    assert int(page.headers["content-length"]) < len(page.content) // 2


async def test_the_manifest_is_german_standalone_with_its_media_type(client):
    answer = await client.get("/manifest.webmanifest")
    assert answer.headers["content-type"].startswith("application/manifest+json")
    manifest = answer.json()
    assert manifest["lang"] == "de" and manifest["display"] == "standalone" and manifest["start_url"].startswith("/")
    assert {"name", "short_name", "description", "theme_color", "background_color"} <= set(manifest)
    for icon in manifest["icons"]:
        assert (await client.get(icon["src"])).status_code == 200


async def test_the_offline_page_names_nobody_even_when_asked_signed_in(app, demo):
    async with signed_in(app, "lotse1") as amina:
        answer = await amina.get("/offline")
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-cache"
    assert "Amina" not in answer.text and "lotsenbuch-session" not in answer.text and "x-csrftoken" not in answer.text
    assert "Keine Verbindung" in visible_text(answer.text)


async def test_a_volunteers_own_pages_may_be_kept_for_them_and_nothing_else_is(app, demo):
    async with signed_in(app, "lotse1") as amina:
        amina_id = str((await User.select(User.id).where(User.username == "lotse1").first())["id"])
        for path in ("/", "/records", "/visits/form", "/notes/form", "/assignments"):
            answer = await amina.get(path)
            assert answer.status_code == 200, path
            assert answer.headers["cache-control"] == "private, no-cache", path
            assert answer.headers["x-lotsenbuch-user"] == amina_id, path
        for path in ("/profile", "/devices", "/inbox", "/api/me"):
            answer = await amina.get(path)
            assert answer.headers["cache-control"] == "no-store", path
            assert "x-lotsenbuch-user" not in answer.headers, path
    async with signed_in(app, "koordination") as office:
        for path in ("/", "/review", "/assignments"):
            answer = await office.get(path)
            assert answer.headers["cache-control"] == "no-store" and "x-lotsenbuch-user" not in answer.headers, path


async def test_a_response_that_sets_a_cookie_is_never_cacheable(client):
    answer = await client.get("/login")  # the first visit sets the CSRF cookie
    assert "set-cookie" in answer.headers and answer.headers["cache-control"] == "no-store"


async def test_the_offline_pack_lists_the_volunteers_own_coming_assignments_and_forms(app, demo_records):
    async with signed_in(app, "lotse1") as amina:
        pack = (await amina.get("/offline-pack")).json()
        user_id = str((await User.select(User.id).where(User.username == "lotse1").first())["id"])
    assert pack["user_id"] == user_id
    assert {"/", "/records", "/visits/form", "/notes/form", "/assignments"} <= set(pack["urls"])
    mine = {f"/assignments/{row['id']}" for row in await Assignment.select(Assignment.id).where(Assignment.volunteer == uuid.UUID(user_id))}
    assert mine and mine <= set(pack["urls"])
    others = {f"/assignments/{row['id']}" for row in await Assignment.select(Assignment.id).where(Assignment.volunteer != uuid.UUID(user_id))}
    assert not others & set(pack["urls"])
    async with signed_in(app, "lotse2") as jonas:  # no pledge yet: no client data in the pack
        assert (await jonas.get("/offline-pack")).json()["urls"] == ["/"]
        assert (await jonas.get("/records")).status_code == 403
    async with signed_in(app, "koordination") as office:
        assert (await office.get("/offline-pack")).status_code == 404


async def test_the_assignment_page_prefills_the_visit_log_from_the_assignment(app, demo_records):
    async with signed_in(app, "lotse1") as amina:
        assignment = await Assignment.select().where(Assignment.day.is_not_null()).first()
        page = await amina.get(f"/assignments/{assignment['id']}")
    link = re.search(r'href="/visits/form\?([^"]+)"', page.text).group(1).replace("&amp;", "&")
    assert f"assignment_id={assignment['id']}" in link and f"client_id={assignment['client']}" in link
    assert f"date={assignment['day'].isoformat()}" in link


async def test_api_me_hands_a_cached_page_a_fresh_csrf_token(app, demo):
    async with signed_in(app, "lotse1") as amina:
        me = (await amina.get("/api/me")).json()
        assert me["csrf_token"] == amina.cookies.get("__Host-csrf")


async def test_a_coordinators_correction_goes_through_the_engine_and_a_crossing_edit_is_a_conflict(app, demo_records):
    log = await VisitLog.select(VisitLog.id, VisitLog.version, VisitLog.outcome).where(VisitLog.status == "submitted").first()
    async with signed_in(app, "koordination") as office:
        headers = await csrf_headers(office)
        page = await office.get(f"/review/{log['id']}/edit")
        assert page.status_code == 200 and log["outcome"][:20] in page.text
        saved = await office.post(f"/review/{log['id']}/edit", data={"version": str(log["version"]), "outcome": "Korrigiert."},
                                  headers=headers)
        assert saved.status_code == 303 and saved.headers["location"] == f"/review/{log['id']}/edit"
        row = await VisitLog.select(VisitLog.outcome, VisitLog.version).where(VisitLog.id == log["id"]).first()
        assert row == {"outcome": "Korrigiert.", "version": log["version"] + 1}
        # A second coordinator's tab still showing the old version changes the same word: a conflict, nothing lost.
        crossing = await office.post(f"/review/{log['id']}/edit", data={"version": str(log["version"]), "outcome": "Berichtigt."},
                                     headers=headers)
        assert crossing.status_code == 303 and crossing.headers["location"].startswith("/conflicts/")
        conflict = await office.get(crossing.headers["location"])
        assert "Berichtigt." in conflict.text and "Korrigiert." in conflict.text
        bad = await office.post(f"/review/{log['id']}/edit", data={"version": "x", "outcome": "?"}, headers=headers)
        assert bad.status_code == 400 and "Version" in visible_text(bad.text)
        assert (await VisitLog.select(VisitLog.outcome).where(VisitLog.id == log["id"]).first())["outcome"] == "Korrigiert."
        missing = await office.get(f"/review/{uuid.uuid4()}/edit")
        assert missing.status_code == 404


async def test_a_volunteers_browser_is_a_device_whose_session_lasts_only_when_asked(app, demo):
    from server.accounts.tables import UserSession
    from tests.conftest import login, make_client

    async with make_client(app) as browser:
        answer = await login(browser, "lotse1")  # without "this is my own phone"
        assert answer.status_code == 303 and "max-age=43200" in answer.headers["set-cookie"].lower()
        assert (await browser.get("/api/me")).json()["device_id"]  # it can sync what it wrote offline
    assert [row["kind"] for row in await UserSession.select(UserSession.kind)] == ["browser"]
    async with make_client(app) as desk:
        await login(desk, "koordination")
        assert (await desk.get("/api/me")).json()["device_id"] is None  # coordination works online
