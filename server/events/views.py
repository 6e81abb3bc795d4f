"""Events: coordination plans them and records who came; volunteers answer from the app. And the
certificate a volunteer gets once the required modules are completed."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from server.access import roles
from server.accounts.store import get_user, list_users
from server.clock import LOCAL, Clock
from server.errors import BadRequest, NotFound
from server.events import store
from server.i18n import N_
from server.organisations import store as organisations
from server.wire import TIME, parse_day, parse_uuid
from server.templating import render

COORDINATION = roles("coordinator")


async def _event(request: Request, event_id: UUID) -> store.EventRecord:
    found = await store.get_event(event_id, request.user.organisation_id)
    if found is None:
        raise NotFound()
    return found


def _read_event(form, today, catalogue) -> tuple[dict, dict, dict]:
    entered = {name: str(form.get(name, "")).strip() for name in ("kind", "title", "day", "start", "place", "description", "module")}
    errors = {}
    if entered["kind"] not in store.KINDS:
        errors["kind"] = N_("Please choose the kind of event.")
    if not 1 <= len(entered["title"]) <= 200:
        errors["title"] = N_("Please give the event a title of at most 200 characters.")
    day = parse_day(entered["day"])
    if day is None or day < today:
        errors["day"] = N_("Please enter a date from today on.")
    if not TIME.match(entered["start"]):
        errors["start"] = N_("Please enter a time as HH:MM.")
    if len(entered["place"]) > 200:
        errors["place"] = N_("Please use at most 200 characters.")
    if len(entered["description"]) > 4000:
        errors["description"] = N_("Please describe it in at most 4,000 characters.")
    module = parse_uuid(entered["module"]) if entered["module"] else None
    if entered["module"] and (module not in {m.id for m in catalogue} or entered["kind"] != "training"):
        errors["module"] = N_("Only a training completes a module; please choose one from the list.")
    if errors:
        return entered, errors, {}
    starts_at = datetime.combine(day, time.fromisoformat(entered["start"]), LOCAL)
    return entered, errors, {"kind": entered["kind"], "title": entered["title"], "starts_at": starts_at,
                             "place": entered["place"], "description": entered["description"], "module": module}


class EventController(Controller):
    path = "/events"

    @get("/", opt=roles("volunteer", "coordinator"))
    async def index(self, request: Request, clock: NamedDependency[Clock]) -> Template:
        user = request.user
        events = await store.list_events(user.organisation_id, since=clock() - timedelta(days=1))
        answers = await store.answers_of(user.id, [e.id for e in events]) if user.role == "volunteer" else {}
        return render(request, "events/list.html", events=events, answers=answers)

    @get("/new", opt=COORDINATION)
    async def new(self, request: Request) -> Template:
        catalogue = await store.modules(request.user.organisation_id)
        return render(request, "events/new.html", entered={}, errors={}, catalogue=catalogue)

    @post("/", opt=COORDINATION)
    async def create(self, request: Request, clock: NamedDependency[Clock]) -> Template | Redirect:
        now = clock()
        catalogue = await store.modules(request.user.organisation_id)
        entered, errors, values = _read_event(await request.form(), now.astimezone(LOCAL).date(), catalogue)
        if errors:
            return render(request, "events/new.html", status_code=400, entered=entered, errors=errors, catalogue=catalogue)
        event_id = await store.create_event(request.user.organisation_id, now, **values)
        return Redirect(f"/events/{event_id}", status_code=303)

    @get("/{event_id:uuid}", opt=COORDINATION)
    async def detail(self, request: Request, event_id: FromPath[UUID]) -> Template:
        event = await _event(request, event_id)
        return await _detail(request, event, completed=None)

    @post("/{event_id:uuid}/attendance", opt=COORDINATION)
    async def attendance(self, request: Request, event_id: FromPath[UUID]) -> Template:
        event = await _event(request, event_id)
        volunteers = {v.id for v in await list_users(request.user.organisation_id, role="volunteer")}
        present = {parse_uuid(str(v)) for v in (await request.form()).getall("present", [])}
        if None in present or not present <= volunteers:
            raise BadRequest(N_("Please tick only volunteers from the list."))
        completed = await store.record_attendance(event, volunteers, present)  # type: ignore[arg-type]
        return await _detail(request, event, completed=completed)

    @post("/{event_id:uuid}/answer", opt=roles("volunteer"))
    async def answer(self, request: Request, clock: NamedDependency[Clock], event_id: FromPath[UUID]) -> Redirect:
        event = await _event(request, event_id)
        reply = str((await request.form()).get("answer", ""))
        if reply not in store.ANSWERS:
            raise BadRequest(N_("Please answer yes, maybe or no."))
        await store.answer(event.id, request.user.id, reply, clock())
        return Redirect("/events", status_code=303)


async def _detail(request: Request, event: store.EventRecord, completed: int | None) -> Template:
    organisation_id = request.user.organisation_id
    volunteers = [v for v in await list_users(organisation_id, role="volunteer") if v.active]
    catalogue = {m.id: m for m in await store.modules(organisation_id)}
    return render(request, "events/detail.html", event=event, volunteers=volunteers, responses=await store.responses(event.id),
                  module=catalogue.get(event.module_id) if event.module_id else None, completed=completed)


async def certificate_page(request: Request, volunteer_id: UUID) -> Template:
    """The printable certificate; only once every required module is completed."""
    organisation_id = request.user.organisation_id
    volunteer = await get_user(volunteer_id, organisation_id)
    if volunteer is None or volunteer.role != "volunteer":
        raise NotFound()
    catalogue = await store.modules(organisation_id)
    done = await store.completions(volunteer.id, organisation_id)
    if not store.certificate_due(catalogue, done):
        raise NotFound(N_("The certificate is there once every required module is completed."))
    organisation = await organisations.get(organisation_id)
    return render(request, "events/certificate.html", volunteer=volunteer, organisation=organisation,
                  modules=[(m, done[m.id]) for m in catalogue if m.id in done])


@get("/certificate", opt=roles("volunteer"))
async def own_certificate(request: Request) -> Template:
    return await certificate_page(request, request.user.id)
