"""The coordinator's volunteer pages; every query is limited to the coordinator's organisation."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from server.access import roles
from server.accounts import store, throttle
from server.accounts.forms import read_profile
from server.accounts.links import invitation_link
from server.clock import Clock
from server.errors import BadRequest, NotFound
from server.events import store as events
from server.events.views import certificate_page
from server.i18n import N_
from server.settings import Settings
from server.templating import render
from server.wire import parse_day, parse_uuid
from server.volunteers.forms import (
    PLEDGE_INVALID, TAKEN, Account, ActiveForm, InviteForm, PledgeForm, account_errors, pledge_date,
)

COORDINATION = roles("coordinator")


async def _volunteer(request: Request, volunteer_id: UUID) -> store.UserRecord:
    user = await store.get_user(volunteer_id, request.user.organisation_id)
    if user is None or user.role != "volunteer":
        raise NotFound()
    return user


async def _qualification(request: Request, volunteer: store.UserRecord) -> dict:
    catalogue = await events.modules(request.user.organisation_id)
    done = await events.completions(volunteer.id, request.user.organisation_id)
    return {"catalogue": catalogue, "done": done, "certificate": events.certificate_due(catalogue, done)}


class VolunteerController(Controller):
    path = "/volunteers"

    @get("/", opt=COORDINATION)
    async def index(self, request: Request) -> Template:
        volunteers = await store.list_users(request.user.organisation_id, role="volunteer")
        return render(request, "volunteers/list.html", volunteers=volunteers)

    @get("/new", opt=COORDINATION)
    async def new(self, request: Request) -> Template:
        return render(request, "volunteers/new.html", account=Account(), profile=None, errors={})

    @post("/", opt=COORDINATION)
    async def create(self, request: Request, clock: NamedDependency[Clock]) -> Template | Redirect:
        form = await request.form()
        account = Account(username=str(form.get("username", "")).strip().lower(), email=str(form.get("email", "")).strip())
        profile, errors = read_profile(form)
        errors |= account_errors(account)
        if not errors and await store.username_or_email_taken(account.username, account.email or None):
            errors["username"] = TAKEN
        if errors:
            return render(request, "volunteers/new.html", status_code=400, account=account, profile=profile, errors=errors)
        volunteer_id = await store.create_user(
            organisation_id=request.user.organisation_id, username=account.username, email=account.email or None,
            display_name=profile.display_name, role="volunteer", password=None, now=clock(),
            ui_language=profile.ui_language, districts=profile.districts,
            languages=[store.Language(code=c, level=lv) for c, lv in profile.languages],
        )
        await store.update_user(volunteer_id, request.user.organisation_id, availability=profile.availability)
        return Redirect(f"/volunteers/{volunteer_id}", status_code=303)

    @get("/{volunteer_id:uuid}", opt=COORDINATION)
    async def detail(self, request: Request, volunteer_id: FromPath[UUID]) -> Template:
        volunteer = await _volunteer(request, volunteer_id)
        return render(
            request, "volunteers/detail.html", volunteer=volunteer, profile=volunteer, errors={},
            devices=await store.list_devices(volunteer.id), saved=False, **await _qualification(request, volunteer),
        )

    @post("/{volunteer_id:uuid}", opt=COORDINATION)
    async def update(self, request: Request, volunteer_id: FromPath[UUID]) -> Template:
        volunteer = await _volunteer(request, volunteer_id)
        form = await request.form()
        profile, errors = read_profile(form)
        account = Account(username=volunteer.username, email=str(form.get("email", "")).strip())
        errors |= account_errors(account)
        if not errors and account.email and await store.username_or_email_taken("", account.email, except_id=volunteer.id):
            errors["email"] = TAKEN
        if not errors:
            await store.update_user(
                volunteer.id, request.user.organisation_id, display_name=profile.display_name,
                email=account.email or None, ui_language=profile.ui_language, districts=profile.districts,
                availability=profile.availability, languages=[{"code": c, "level": lv} for c, lv in profile.languages],
            )
            volunteer = await _volunteer(request, volunteer_id)
        return render(
            request, "volunteers/detail.html", status_code=400 if errors else 200, volunteer=volunteer,
            profile=profile if errors else volunteer, errors=errors, devices=await store.list_devices(volunteer.id),
            saved=not errors, **await _qualification(request, volunteer),
        )

    @post("/{volunteer_id:uuid}/pledge", opt=COORDINATION)
    async def pledge(
        self, request: Request, clock: NamedDependency[Clock], volunteer_id: FromPath[UUID], data: URLEncodedBody[PledgeForm],
    ) -> Template | Redirect:
        volunteer = await _volunteer(request, volunteer_id)
        signed_on = pledge_date(data, clock().date())
        if signed_on is None:
            return render(
                request, "volunteers/detail.html", status_code=400, volunteer=volunteer, profile=volunteer,
                errors={"signed_on": PLEDGE_INVALID},
                devices=await store.list_devices(volunteer.id), saved=False, **await _qualification(request, volunteer),
            )
        await store.update_user(volunteer.id, request.user.organisation_id, pledge_signed_on=signed_on)
        return Redirect(f"/volunteers/{volunteer.id}", status_code=303)

    @post("/{volunteer_id:uuid}/active", opt=COORDINATION)
    async def set_active(self, request: Request, volunteer_id: FromPath[UUID], data: URLEncodedBody[ActiveForm]) -> Redirect:
        volunteer = await _volunteer(request, volunteer_id)
        await store.set_active(volunteer.id, request.user.organisation_id, data.active == "1")
        return Redirect(f"/volunteers/{volunteer.id}", status_code=303)

    @post("/{volunteer_id:uuid}/invite", opt=COORDINATION)
    async def invite(
        self, request: Request, settings: NamedDependency[Settings], clock: NamedDependency[Clock],
        volunteer_id: FromPath[UUID], data: URLEncodedBody[InviteForm],
    ) -> Template:
        volunteer = await _volunteer(request, volunteer_id)
        if not volunteer.active:
            raise NotFound()
        purpose = "reset" if data.purpose == "reset" else "invite"
        await throttle.limit(f"invitations-made:{request.user.id}", throttle.INVITATIONS_MADE, clock())
        token = await store.create_invitation(volunteer.id, purpose, request.user.id, clock())
        return render(
            request, "accounts/invitation_link.html", person=volunteer, purpose=purpose,
            link=invitation_link(settings, token), back=f"/volunteers/{volunteer.id}",
        )

    @post("/{volunteer_id:uuid}/devices/{device_id:uuid}/revoke", opt=COORDINATION)
    async def revoke_device(
        self, request: Request, clock: NamedDependency[Clock], volunteer_id: FromPath[UUID], device_id: FromPath[UUID],
    ) -> Redirect:
        volunteer = await _volunteer(request, volunteer_id)
        if not await store.revoke_device(device_id, volunteer.id, clock()):
            raise NotFound()
        return Redirect(f"/volunteers/{volunteer.id}", status_code=303)

    @post("/{volunteer_id:uuid}/modules", opt=COORDINATION)
    async def complete_module(self, request: Request, clock: NamedDependency[Clock], volunteer_id: FromPath[UUID]) -> Redirect:
        volunteer = await _volunteer(request, volunteer_id)
        form = await request.form()
        catalogue = {m.id for m in await events.modules(request.user.organisation_id)}
        module_id = parse_uuid(str(form.get("module", "")))
        completed_on = parse_day(str(form.get("completed_on", "")))
        if module_id not in catalogue or completed_on is None or completed_on > clock().date():
            raise BadRequest(N_("Please choose a module and the day it was completed, not in the future."))
        await events.complete(module_id, volunteer.id, completed_on)
        return Redirect(f"/volunteers/{volunteer.id}", status_code=303)

    @get("/{volunteer_id:uuid}/certificate", opt=COORDINATION)
    async def certificate(self, request: Request, volunteer_id: FromPath[UUID]) -> Template:
        volunteer = await _volunteer(request, volunteer_id)
        return await certificate_page(request, volunteer.id)
