"""The coordinator's client pages; every query is limited to the coordinator's organisation."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from server.access import roles
from server.clients import store
from server.clients.forms import ClientForm, consent_date, read_client
from server.clock import Clock
from server.errors import NotFound
from server.privacy import audit
from server.templating import render

COORDINATION = roles("coordinator")


def _columns(entered: ClientForm, today) -> dict:
    return {"alias": entered.alias, "languages": entered.languages, "district": entered.district, "needs": entered.needs,
            "consent_on": consent_date(entered, today) if entered.consent_on else None, "active": entered.active}


class ClientController(Controller):
    path = "/clients"

    @get("/", opt=COORDINATION)
    async def index(self, request: Request, clock: NamedDependency[Clock]) -> Template:
        clients = await store.list_clients(request.user.organisation_id)
        await audit.record(request.user, "list", [client.id for client in clients], clock())
        return render(request, "clients/list.html", clients=clients)

    @get("/new", opt=COORDINATION)
    async def new(self, request: Request) -> Template:
        return render(request, "clients/form.html", client=None, entered=ClientForm(), errors={})

    @post("/", opt=COORDINATION)
    async def create(self, request: Request, clock: NamedDependency[Clock]) -> Template | Redirect:
        now = clock()
        entered, errors = read_client(await request.form(), now.date())
        if errors:
            return render(request, "clients/form.html", status_code=400, client=None, entered=entered, errors=errors)
        client_id = await store.create_client(request.user.organisation_id, now, **_columns(entered, now.date()))
        return Redirect(f"/clients/{client_id}", status_code=303)

    @get("/{client_id:uuid}", opt=COORDINATION)
    async def detail(self, request: Request, clock: NamedDependency[Clock], client_id: FromPath[UUID]) -> Template:
        client = await store.get_client(client_id, request.user.organisation_id)
        if client is None:
            raise NotFound()
        await audit.record(request.user, "page", [client.id], clock())
        entered = ClientForm(alias=client.alias, languages=client.languages, district=client.district, needs=client.needs,
                             consent_on=client.consent_on.isoformat() if client.consent_on else "", active=client.active)
        return render(request, "clients/form.html", client=client, entered=entered, errors={})

    @post("/{client_id:uuid}", opt=COORDINATION)
    async def update(self, request: Request, clock: NamedDependency[Clock], client_id: FromPath[UUID]) -> Template | Redirect:
        client = await store.get_client(client_id, request.user.organisation_id)
        if client is None:
            raise NotFound()
        today = clock().date()
        entered, errors = read_client(await request.form(), today)
        if errors:
            return render(request, "clients/form.html", status_code=400, client=client, entered=entered, errors=errors)
        await store.update_client(client.id, request.user.organisation_id, **_columns(entered, today))
        return Redirect(f"/clients/{client.id}", status_code=303)
