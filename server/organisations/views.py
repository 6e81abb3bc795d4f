"""The administrators' pages: organisations, and the coordinators and users in each."""

from __future__ import annotations

from uuid import UUID

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from server.access import roles
from server.accounts import store as accounts, throttle
from server.accounts.links import invitation_link
from server.clock import Clock
from server.errors import NotFound
from server.i18n import N_
from server.organisations import store
from server.settings import Settings
from server.templating import render
from server.volunteers.forms import TAKEN, Account, ActiveForm, account_errors

ADMINISTRATION = roles("admin")
NAME_INVALID = N_("Please enter a name of 2 to 200 characters that no other organisation has.")


class OrganisationForm(msgspec.Struct):
    name: str = ""


class NewUserForm(msgspec.Struct):
    username: str = ""
    email: str = ""
    display_name: str = ""
    role: str = "coordinator"


async def organisation_or_404(organisation_id: UUID) -> store.OrganisationRecord:
    organisation = await store.get(organisation_id)
    if organisation is None:
        raise NotFound()
    return organisation


class AdminController(Controller):
    path = "/admin"

    @get("/organisations", opt=ADMINISTRATION)
    async def organisations(self, request: Request) -> Template:
        return render(request, "organisations/list.html", organisations=await store.list_all(), name="", errors={})

    @post("/organisations", opt=ADMINISTRATION)
    async def create(self, request: Request, clock: NamedDependency[Clock], data: URLEncodedBody[OrganisationForm]) -> Template | Redirect:
        name = data.name.strip()
        if not 2 <= len(name) <= 200 or await store.find_by_name(name):
            return render(
                request, "organisations/list.html", status_code=400, organisations=await store.list_all(),
                name=data.name, errors={"name": NAME_INVALID},
            )
        organisation_id = await store.create_organisation(name, clock())
        return Redirect(f"/admin/organisations/{organisation_id}", status_code=303)

    @get("/organisations/{organisation_id:uuid}", opt=ADMINISTRATION)
    async def detail(self, request: Request, organisation_id: FromPath[UUID]) -> Template:
        organisation = await organisation_or_404(organisation_id)
        return render(
            request, "organisations/detail.html", organisation=organisation,
            users=await accounts.list_users(organisation.id), form=NewUserForm(), errors={},
        )

    @post("/organisations/{organisation_id:uuid}/users", opt=ADMINISTRATION)
    async def create_user(
        self, request: Request, settings: NamedDependency[Settings], clock: NamedDependency[Clock],
        organisation_id: FromPath[UUID], data: URLEncodedBody[NewUserForm],
    ) -> Template:
        organisation = await organisation_or_404(organisation_id)
        errors = account_errors(Account(username=data.username, email=data.email))
        if not 1 <= len(data.display_name.strip()) <= 120:
            errors["display_name"] = N_("Please enter a name of 1 to 120 characters.")
        if data.role not in ("coordinator", "admin", "volunteer"):
            errors["role"] = N_("Please choose one of the offered roles.")
        if not errors and await accounts.username_or_email_taken(data.username, data.email or None):
            errors["username"] = TAKEN
        if not errors:
            await throttle.limit(f"invitations-made:{request.user.id}", throttle.INVITATIONS_MADE, clock())
        if errors:
            return render(
                request, "organisations/detail.html", status_code=400, organisation=organisation,
                users=await accounts.list_users(organisation.id), form=data, errors=errors,
            )
        user_id = await accounts.create_user(
            organisation_id=organisation.id, username=data.username, email=data.email or None,
            display_name=data.display_name, role=data.role, password=None, now=clock(),
        )
        token = await accounts.create_invitation(user_id, "invite", request.user.id, clock())
        return render(
            request, "accounts/invitation_link.html", person=await accounts.get_user(user_id, None), purpose="invite",
            link=invitation_link(settings, token), back=f"/admin/organisations/{organisation.id}",
        )

    @post("/users/{user_id:uuid}/reset", opt=ADMINISTRATION)
    async def reset(
        self, request: Request, settings: NamedDependency[Settings], clock: NamedDependency[Clock], user_id: FromPath[UUID],
    ) -> Template:
        user = await accounts.get_user(user_id, None)
        if user is None or not user.active:
            raise NotFound()
        purpose = "reset" if user.has_password else "invite"
        await throttle.limit(f"invitations-made:{request.user.id}", throttle.INVITATIONS_MADE, clock())
        token = await accounts.create_invitation(user.id, purpose, request.user.id, clock())
        return render(
            request, "accounts/invitation_link.html", person=user, purpose=purpose,
            link=invitation_link(settings, token), back=f"/admin/organisations/{user.organisation_id}",
        )

    @post("/users/{user_id:uuid}/active", opt=ADMINISTRATION)
    async def set_active(self, request: Request, user_id: FromPath[UUID], data: URLEncodedBody[ActiveForm]) -> Redirect:
        user = await accounts.get_user(user_id, None)
        if user is None or user.id == request.user.id:  # an admin cannot lock themself out
            raise NotFound()
        await accounts.set_active(user.id, user.organisation_id, data.active == "1")
        return Redirect(f"/admin/organisations/{user.organisation_id}", status_code=303)
