"""The privacy pages: the audit log, one client's export and erasure, the retention schedule, and
an organisation's export and removal (offboarding)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from server.access import roles
from server.clients.store import get_client
from server.clock import Clock
from server.errors import BadRequest, Conflict, NotFound
from server.i18n import N_
from server.organisations.views import organisation_or_404
from server.privacy import audit, retention, store
from server.templating import render
from server.wire import parse_uuid

COORDINATION = roles("coordinator")
OVERSIGHT = roles("coordinator", "admin")
ADMINISTRATION = roles("admin")
MONTHS_INVALID = N_("Please enter a whole number of months from 1 to 240, or leave the field empty to keep everything.")


def _download(data: dict, name: str, now: datetime) -> Response[bytes]:
    filename = f"{name}-{now.date().isoformat()}.json"
    return Response(msgspec.json.encode(data), media_type="application/json",
                    headers={"content-disposition": f'attachment; filename="{filename}"'})


@get("/audit", opt=OVERSIGHT)
async def audit_log(request: Request) -> Template:
    text = request.query_params.get("client", "")
    client_id = parse_uuid(text) if text else None
    if text and client_id is None:
        raise BadRequest(N_("The client in the address is not valid."))
    entries = await audit.entries(request.user.organisation_id, client_id)
    return render(request, "privacy/audit.html", entries=entries, client_id=client_id)


@get("/clients/{client_id:uuid}/export", opt=COORDINATION)
async def export_client(request: Request, clock: NamedDependency[Clock], client_id: FromPath[UUID]) -> Response[bytes]:
    now = clock()
    data = await store.export_client(request.user, client_id, now)
    if data is None:
        raise NotFound()
    return _download(data, f"client-{client_id}", now)


@post("/clients/{client_id:uuid}/erase", opt=COORDINATION)
async def erase_client(request: Request, clock: NamedDependency[Clock], client_id: FromPath[UUID]) -> Redirect:
    if await get_client(client_id, request.user.organisation_id) is None:
        raise NotFound()
    if (await request.form()).get("confirm") != "erase":
        raise BadRequest(N_("Please tick the box to confirm that this client is to be erased."))
    if not await store.erase_client(request.user, client_id, clock()):
        raise NotFound()
    return Redirect("/clients", status_code=303)


@get("/privacy/retention", opt=OVERSIGHT)
async def retention_page(request: Request) -> Template:
    policy = await retention.policy(request.user.organisation_id)
    entered = {"log_text_months": policy.log_text_months or "", "inactive_client_months": policy.inactive_client_months or ""}
    return render(request, "privacy/retention.html", entered=entered, policy=policy, errors={}, saved=False, outcome=None)


@post("/privacy/retention", opt=OVERSIGHT)
async def save_retention(request: Request, clock: NamedDependency[Clock]) -> Template:
    form = await request.form()
    entered = {name: str(form.get(name, "")).strip() for name in ("log_text_months", "inactive_client_months")}
    values, errors = {}, {}
    for name, text in entered.items():
        values[name], valid = retention.parse_months(text)
        if not valid:
            errors[name] = MONTHS_INVALID
    if not errors:
        await retention.save_policy(request.user.organisation_id, values["log_text_months"],
                                    values["inactive_client_months"], clock())
    policy = await retention.policy(request.user.organisation_id)
    return render(request, "privacy/retention.html", status_code=400 if errors else 200, entered=entered, policy=policy,
                  errors=errors, saved=not errors, outcome=None)


@post("/privacy/retention/run", opt=OVERSIGHT)
async def run_retention(request: Request, clock: NamedDependency[Clock]) -> Template:
    """Apply the schedule now rather than at the next daily run (e.g. right after changing it)."""
    outcome = await retention.apply(request.user.organisation_id, clock())
    policy = await retention.policy(request.user.organisation_id)
    entered = {"log_text_months": policy.log_text_months or "", "inactive_client_months": policy.inactive_client_months or ""}
    return render(request, "privacy/retention.html", entered=entered, policy=policy, errors={}, saved=False, outcome=outcome)


@get("/admin/organisations/{organisation_id:uuid}/export", opt=ADMINISTRATION)
async def export_organisation(clock: NamedDependency[Clock], organisation_id: FromPath[UUID]) -> Response[bytes]:
    now = clock()
    data = await store.export_organisation(organisation_id, now)
    if data is None:
        raise NotFound()
    return _download(data, f"organisation-{organisation_id}", now)


@post("/admin/organisations/{organisation_id:uuid}/delete", opt=ADMINISTRATION)
async def delete_organisation(request: Request, organisation_id: FromPath[UUID]) -> Redirect:
    organisation = await organisation_or_404(organisation_id)
    if organisation.id == request.user.organisation_id:
        raise Conflict(N_("You cannot remove the organisation you belong to; ask an administrator of another one."))
    if str((await request.form()).get("confirm", "")).strip() != organisation.name:
        raise BadRequest(N_("Please type the organisation's name to confirm that it is to be removed."))
    await store.delete_organisation(organisation.id)
    return Redirect("/admin/organisations", status_code=303)


ROUTES = [audit_log, export_client, erase_client, retention_page, save_retention, run_retention, export_organisation, delete_organisation]
