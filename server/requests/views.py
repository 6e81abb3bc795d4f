"""Requests: the coordinators' inbox, matching and offers; the public request form; the
volunteer's offers with accept and decline."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from server.access import public, require_client_access, roles
from server.accounts import throttle
from server.clients.store import get_client, list_clients
from server.privacy import audit
from server.clock import Clock
from server.errors import BadRequest, NotFound, TooManyRequests
from server.i18n import N_
from server.organisations.views import organisation_or_404
from server.offline.views import offline_copy
from server.requests import store
from server.requests.forms import RequestForm, read_request, values
from server.settings import Settings
from server.templating import render
from server.wire import parse_uuid

COORDINATION = roles("coordinator")
PUBLIC_FORM_LIMIT = 5  # requests per address and hour
PUBLIC_FORM_WINDOW = timedelta(hours=1)
HONEYPOT = "website"  # hidden from people; a bot that fills every field fills this one


async def _request(request: Request, request_id: UUID) -> store.RequestRecord:
    found = await store.get_request(request_id, request.user.organisation_id)
    if found is None:
        raise NotFound()
    return found


class RequestController(Controller):
    path = "/requests"

    @get("/", opt=COORDINATION)
    async def index(
        self, request: Request, settings: NamedDependency[Settings], clock: NamedDependency[Clock],
        status: FromQuery[str | None] = None,
    ) -> Template:
        status = status if status in store.STATUSES else None
        organisation_id = request.user.organisation_id
        cutoff = clock() - timedelta(hours=settings.offer_flag_hours)
        return render(request, "requests/list.html", requests=await store.list_requests(organisation_id, status),
                      counts=await store.count_by_status(organisation_id), status=status, statuses=store.STATUSES,
                      waiting=await store.waiting_too_long(organisation_id, cutoff), flag_hours=settings.offer_flag_hours)

    @get("/new", opt=COORDINATION)
    async def new(self, request: Request, clock: NamedDependency[Clock]) -> Template:
        clients = await list_clients(request.user.organisation_id, active_only=True)
        await audit.record(request.user, "list", [client.id for client in clients], clock())  # the aliases to choose from
        return render(request, "requests/new.html", entered=RequestForm(), errors={}, clients=clients)

    @post("/", opt=COORDINATION)
    async def create(self, request: Request, clock: NamedDependency[Clock]) -> Template | Redirect:
        now, organisation_id = clock(), request.user.organisation_id
        entered, errors = read_request(await request.form(), now.date(), public=False)
        client_id = parse_uuid(entered.client_id) if entered.client_id else None
        if client_id is not None and await get_client(client_id, organisation_id) is None:
            errors["client_id"] = N_("Please choose a client from the list.")
        if errors:
            clients = await list_clients(organisation_id, active_only=True)
            return render(request, "requests/new.html", status_code=400, entered=entered, errors=errors, clients=clients)
        created = await store.create_request(organisation_id, now, source="coordinator", status="matching",
                                             client=client_id, **values(entered))
        return Redirect(f"/requests/{created.id}", status_code=303)

    @get("/{request_id:uuid}", opt=COORDINATION)
    async def detail(
        self, request: Request, settings: NamedDependency[Settings], clock: NamedDependency[Clock], request_id: FromPath[UUID],
    ) -> Template:
        found = await _request(request, request_id)
        return await _detail(request, found, clock(), settings.offer_flag_hours)

    @post("/{request_id:uuid}/offers", opt=COORDINATION)
    async def offer(self, request: Request, clock: NamedDependency[Clock], request_id: FromPath[UUID]) -> Template | Redirect:
        found = await _request(request, request_id)
        chosen = [parse_uuid(str(v)) for v in (await request.form()).getall("volunteer_ids", [])]
        if not chosen or None in chosen:
            raise BadRequest(N_("Please choose at least one volunteer to offer the request to."))
        made = await store.make_offers(found, request.user.organisation_id, chosen, clock())
        if not made:
            raise BadRequest(N_("No offer was made: the request is no longer open, or these volunteers have it already."))
        return Redirect(f"/requests/{found.id}", status_code=303)

    @post("/{request_id:uuid}/status", opt=COORDINATION)
    async def set_status(self, request: Request, clock: NamedDependency[Clock], request_id: FromPath[UUID]) -> Redirect:
        found = await _request(request, request_id)
        status = str((await request.form()).get("status", ""))
        allowed = {"done"} if found.status == "assigned" else {"cancelled", "matching"} if found.status in store.OPEN_STATUSES else set()
        if status not in allowed:
            raise BadRequest(N_("This request cannot take that status now."))
        await store.set_status(found.id, request.user.organisation_id, status, clock())
        return Redirect(f"/requests/{found.id}", status_code=303)


async def _detail(request: Request, found: store.RequestRecord, now, flag_hours: int) -> Template:
    organisation_id = request.user.organisation_id
    client = await get_client(found.client_id, organisation_id) if found.client_id else None
    await audit.record(request.user, "request", [client.id if client else None], now)
    offers = await store.offers_of_request(found.id, organisation_id)
    ranking = await store.candidates(found, organisation_id, now.date()) if found.status in store.OPEN_STATUSES else None
    assignment = next(iter(await store.list_assignments(organisation_id, request_id=found.id)), None)
    return render(request, "requests/detail.html", item=found, client=client, offers=offers, ranking=ranking,
                  offered_to={o.volunteer_id for o in offers}, assignment=assignment,
                  cutoff=now - timedelta(hours=flag_hours), flag_hours=flag_hours)


class PublicRequestController(Controller):
    """The form institutions and newcomers use without an account; it names the organisation."""

    path = "/help/{organisation_id:uuid}"

    @get("/", opt=public())
    async def form(self, request: Request, organisation_id: FromPath[UUID]) -> Template:
        organisation = await organisation_or_404(organisation_id)
        return render(request, "requests/public.html", organisation=organisation, entered=RequestForm(), errors={})

    @post("/", opt=public())
    async def send(
        self, request: Request, settings: NamedDependency[Settings], clock: NamedDependency[Clock],
        organisation_id: FromPath[UUID],
    ) -> Template | Redirect:
        organisation = await organisation_or_404(organisation_id)
        form = await request.form()
        if str(form.get(HONEYPOT, "")):
            raise BadRequest(N_("The request could not be sent. Please call the office instead."))
        now = clock()
        entered, errors = read_request(form, now.date(), public=True)
        if errors:
            return render(request, "requests/public.html", status_code=400, organisation=organisation, entered=entered,
                          errors=errors)
        address = throttle.client_address(request.scope, settings.trusted_proxies)
        wait = await throttle.take(f"help-form:{address}", PUBLIC_FORM_LIMIT, PUBLIC_FORM_WINDOW, now)
        if wait:
            raise TooManyRequests(N_("Too many requests from this connection. Please try again later or call the office."),
                                  retry_after=wait)
        created = await store.create_request(organisation.id, now, source="public", status="new", **values(entered))
        return Redirect(f"/help/{organisation.id}/sent/{created.reference}", status_code=303)

    @get("/sent/{reference:str}", opt=public())
    async def sent(self, request: Request, organisation_id: FromPath[UUID], reference: FromPath[str]) -> Template:
        organisation = await organisation_or_404(organisation_id)
        if await store.request_by_reference(reference, organisation.id) is None:
            raise NotFound()
        return render(request, "requests/sent.html", organisation=organisation, reference=reference)


class OfferController(Controller):
    """A volunteer's offers; the answer is theirs alone."""

    path = "/offers"

    @get("/", opt=roles("volunteer"))
    async def index(self, request: Request, clock: NamedDependency[Clock]) -> Template:
        require_client_access(request)
        offers = await store.offers_for_volunteer(request.user.id, request.user.organisation_id)
        await audit.record(request.user, "list", [o.request.client_id for o in offers if o.client_alias], clock())
        outcome = request.query_params.get("outcome")
        headers = {} if outcome else offline_copy(request)  # answered offline too, on the kept page
        return render(request, "offers/list.html", headers=headers, offers=offers, outcome=outcome)

    @post("/{offer_id:uuid}", opt=roles("volunteer"))
    async def answer(self, request: Request, clock: NamedDependency[Clock], offer_id: FromPath[UUID]) -> Redirect:
        require_client_access(request)
        if not await store.is_offered_to(offer_id, request.user.id, request.user.organisation_id):
            raise NotFound()
        answer = str((await request.form()).get("answer", ""))
        if answer not in ("accept", "decline"):
            raise BadRequest(N_("Please accept or decline the offer."))
        outcome = await store.answer_offer(offer_id, request.user.id, request.user.organisation_id, answer == "accept", clock())
        if outcome == "missing":
            raise NotFound()
        return Redirect(f"/offers?outcome={outcome}", status_code=303)
