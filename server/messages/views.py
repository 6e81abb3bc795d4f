"""Coordination writes to all volunteers or a filtered group; volunteers read in their inbox."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from server.access import roles
from server.accounts.forms import LANGUAGE_CODES
from server.accounts.store import list_users
from server.clock import Clock
from server.errors import NotFound
from server.i18n import N_
from server.messages import store
from server.templating import render


def _districts(volunteers) -> list[str]:
    return sorted({d for v in volunteers for d in v.districts})


class MessageController(Controller):
    path = "/messages"

    @get("/", opt=roles("coordinator"))
    async def index(self, request: Request) -> Template:
        return await _page(request, subject="", body="", audience=store.Audience(), errors={}, sent_to=None)

    @post("/", opt=roles("coordinator"))
    async def send(self, request: Request, clock: NamedDependency[Clock]) -> Template:
        form = await request.form()
        subject, body = str(form.get("subject", "")).strip(), str(form.get("body", "")).strip()
        audience = store.Audience(language=str(form.get("language", "")), district=str(form.get("district", "")).strip())
        errors = {}
        if not 1 <= len(subject) <= 200:
            errors["subject"] = N_("Please write a subject of at most 200 characters.")
        if not 1 <= len(body) <= 5000:
            errors["body"] = N_("Please write the message, at most 5,000 characters.")
        if audience.language and audience.language not in LANGUAGE_CODES:
            errors["language"] = N_("Please choose a language from the list, or none.")
        if errors:
            return await _page(request, subject, body, audience, errors, None, status_code=400)
        user = request.user
        count = await store.send(user.organisation_id, user.id, subject, body, audience, clock())
        if not count:
            errors["audience"] = N_("No active volunteer matches this filter; the message was not sent.")
            return await _page(request, subject, body, audience, errors, None, status_code=400)
        return await _page(request, "", "", store.Audience(), {}, count)


async def _page(request: Request, subject, body, audience, errors, sent_to, status_code: int = 200) -> Template:
    organisation_id = request.user.organisation_id
    volunteers = await list_users(organisation_id, role="volunteer")
    return render(request, "messages/compose.html", status_code=status_code, subject=subject, body=body,
                  audience=audience, errors=errors, sent_to=sent_to, districts=_districts(volunteers),
                  messages=await store.sent(organisation_id))


class InboxController(Controller):
    path = "/inbox"

    @get("/", opt=roles("volunteer"))
    async def index(self, request: Request) -> Template:
        return render(request, "messages/inbox.html", entries=await store.inbox(request.user.id, request.user.organisation_id))

    @post("/{message_id:uuid}/read", opt=roles("volunteer"))
    async def read(self, request: Request, clock: NamedDependency[Clock], message_id: FromPath[UUID]) -> Redirect:
        if not await store.mark_read(request.user.id, message_id, clock()):
            raise NotFound()
        return Redirect("/inbox", status_code=303)
