"""The Wegweiser's pages: the directory and how-tos coordinators keep, the corrections volunteers
suggest, the guide volunteers carry offline (/guide, filled in on the phone from its synced copy),
and coordination's follow-up of visits that need professional help."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from server.access import roles
from server.clock import LOCAL, Clock
from server.directory import store
from server.directory.forms import EntryForm, HowtoForm, entry_values, howto_values, read_entry, read_howto, read_text
from server.errors import NotFound
from server.i18n import N_
from server.offline.views import offline_copy
from server.templating import render

COORDINATION = roles("coordinator")
EVERYONE = roles("volunteer", "coordinator")
SUGGESTION_LIMIT = 2000


async def _entry(request: Request, entry_id: UUID, own: bool = False) -> store.Entry:
    """An entry the user's organisation sees; with `own`, one it may also edit."""
    entry = await store.get_entry(entry_id, request.user.organisation_id)
    if entry is None or (own and not entry.own):
        raise NotFound()
    return entry


def _entry_form(entry: store.Entry) -> EntryForm:
    return EntryForm(name=entry.name, category=entry.category, address=entry.address, opening_hours=entry.opening_hours,
                     phone=entry.phone, languages=entry.languages, help_kinds=entry.help_kinds, bring=entry.bring,
                     notes=entry.notes, last_checked=entry.last_checked.isoformat() if entry.last_checked else "",
                     shared=entry.shared)


class DirectoryController(Controller):
    path = "/directory"

    @get("/", opt=EVERYONE)
    async def index(self, request: Request) -> Template:
        search = request.query_params.get("q", "")[:200]
        entries = await store.list_entries(request.user.organisation_id, search)
        return render(request, "directory/list.html", "directory/_entries.html", entries=entries, search=search)

    @get("/new", opt=COORDINATION)
    async def new(self, request: Request) -> Template:
        return render(request, "directory/form.html", entry=None, entered=EntryForm(), errors={})

    @post("/", opt=COORDINATION)
    async def create(self, request: Request, clock: NamedDependency[Clock]) -> Template | Redirect:
        now = clock()
        entered, errors = read_entry(await request.form(), now.astimezone(LOCAL).date())
        if errors:
            return render(request, "directory/form.html", status_code=400, entry=None, entered=entered, errors=errors)
        entry_id = await store.create_entry(request.user.organisation_id, now, entry_values(entered))
        return Redirect(f"/directory/{entry_id}", status_code=303)

    @get("/{entry_id:uuid}", opt=EVERYONE)
    async def detail(self, request: Request, entry_id: FromPath[UUID]) -> Template:
        entry = await _entry(request, entry_id)
        if entry.own and request.user.role == "coordinator":
            return render(request, "directory/form.html", entry=entry, entered=_entry_form(entry), errors={})
        return render(request, "directory/detail.html", entry=entry, text="", error=None, sent=False)

    @post("/{entry_id:uuid}", opt=COORDINATION)
    async def update(self, request: Request, clock: NamedDependency[Clock], entry_id: FromPath[UUID]) -> Template | Redirect:
        entry = await _entry(request, entry_id, own=True)
        now = clock()
        entered, errors = read_entry(await request.form(), now.astimezone(LOCAL).date())
        if errors:
            return render(request, "directory/form.html", status_code=400, entry=entry, entered=entered, errors=errors)
        await store.update_entry(entry.id, request.user.organisation_id, now, entry_values(entered))
        return Redirect(f"/directory/{entry.id}", status_code=303)

    @post("/{entry_id:uuid}/delete", opt=COORDINATION)
    async def delete(self, request: Request, clock: NamedDependency[Clock], entry_id: FromPath[UUID]) -> Redirect:
        if not await store.delete_entry(entry_id, request.user.organisation_id, clock()):
            raise NotFound()
        return Redirect("/directory", status_code=303)

    @post("/{entry_id:uuid}/suggestions", opt=EVERYONE)
    async def suggest(self, request: Request, clock: NamedDependency[Clock], entry_id: FromPath[UUID]) -> Template:
        entry = await _entry(request, entry_id)
        text, error = read_text(await request.form(), "text", SUGGESTION_LIMIT)
        if error is None:
            await store.suggest(entry, request.user.id, text, clock())
        return render(request, "directory/detail.html", status_code=400 if error else 200, entry=entry,
                      text=text if error else "", error=error, limit=SUGGESTION_LIMIT, sent=error is None)

    @get("/suggestions", opt=COORDINATION)
    async def suggestions(self, request: Request) -> Template:
        return render(request, "directory/suggestions.html",
                      suggestions=await store.open_suggestions(request.user.organisation_id))

    @post("/suggestions/{suggestion_id:uuid}", opt=COORDINATION)
    async def close_suggestion(self, request: Request, clock: NamedDependency[Clock],
                               suggestion_id: FromPath[UUID]) -> Redirect:
        user = request.user
        if not await store.close_suggestion(suggestion_id, user.organisation_id, user.id, clock()):
            raise NotFound(N_("This suggestion is not open (any more)."))
        return Redirect("/directory/suggestions", status_code=303)


class HowtoController(Controller):
    path = "/howtos"

    @get("/", opt=COORDINATION)
    async def index(self, request: Request) -> Template:
        return render(request, "directory/howtos.html", howtos=await store.list_howtos(request.user.organisation_id))

    @get("/new", opt=COORDINATION)
    async def new(self, request: Request) -> Template:
        return await _howto_form(request, None, HowtoForm(), {})

    @post("/", opt=COORDINATION)
    async def create(self, request: Request, clock: NamedDependency[Clock]) -> Template | Redirect:
        entered, errors = await _read_howto(request)
        if errors:
            return await _howto_form(request, None, entered, errors)
        howto_id = await store.create_howto(request.user.organisation_id, clock(), howto_values(entered))
        return Redirect(f"/howtos/{howto_id}", status_code=303)

    @get("/{howto_id:uuid}", opt=COORDINATION)
    async def detail(self, request: Request, howto_id: FromPath[UUID]) -> Template:
        howto = await store.get_howto(howto_id, request.user.organisation_id)
        if howto is None:
            raise NotFound()
        entered = HowtoForm(title=howto.title, body=howto.body, checklist="\n".join(howto.checklist), entries=howto.entries,
                            place_types=howto.place_types, topics=howto.topics)
        return await _howto_form(request, howto, entered, {})

    @post("/{howto_id:uuid}", opt=COORDINATION)
    async def update(self, request: Request, clock: NamedDependency[Clock], howto_id: FromPath[UUID]) -> Template | Redirect:
        howto = await store.get_howto(howto_id, request.user.organisation_id)
        if howto is None:
            raise NotFound()
        entered, errors = await _read_howto(request)
        if errors:
            return await _howto_form(request, howto, entered, errors)
        await store.update_howto(howto.id, request.user.organisation_id, clock(), howto_values(entered))
        return Redirect(f"/howtos/{howto.id}", status_code=303)

    @post("/{howto_id:uuid}/delete", opt=COORDINATION)
    async def delete(self, request: Request, clock: NamedDependency[Clock], howto_id: FromPath[UUID]) -> Redirect:
        if not await store.update_howto(howto_id, request.user.organisation_id, clock(), None):
            raise NotFound()
        return Redirect("/howtos", status_code=303)


async def _read_howto(request: Request) -> tuple[HowtoForm, dict]:
    entries = await store.list_entries(request.user.organisation_id)
    return read_howto(await request.form(), {entry.id for entry in entries})


async def _howto_form(request: Request, howto, entered: HowtoForm, errors: dict) -> Template:
    entries = await store.list_entries(request.user.organisation_id)
    return render(request, "directory/howto_form.html", status_code=400 if errors else 200, howto=howto, entered=entered,
                  errors=errors, entries=entries)


@get("/guide", opt=roles("volunteer"))
async def guide(request: Request) -> Template:
    """The directory and how-tos on the phone: drawn and searched from the synced copy, offline too."""
    return render(request, "directory/guide.html", headers=offline_copy(request))


class ProfessionalHelpController(Controller):
    """Visits beyond a volunteer's limits: which advice centres fit, and what coordination did."""

    path = "/professional-help"

    @get("/", opt=COORDINATION)
    async def index(self, request: Request) -> Template:
        return render(request, "directory/help_list.html", flagged=await store.flagged(request.user.organisation_id))

    @get("/{log_id:uuid}", opt=COORDINATION)
    async def detail(self, request: Request, log_id: FromPath[UUID]) -> Template:
        return await _help_page(request, log_id, "", None)

    @post("/{log_id:uuid}", opt=COORDINATION)
    async def follow_up(self, request: Request, clock: NamedDependency[Clock], log_id: FromPath[UUID]) -> Template | Redirect:
        user = request.user
        await _flagged(request, log_id)
        form = await request.form()
        text, error = read_text(form, "text", SUGGESTION_LIMIT)
        if error:
            return await _help_page(request, log_id, text, error)
        await store.follow_up(log_id, user.organisation_id, user.id, text, form.get("closed") == "1", clock())
        return Redirect(f"/professional-help/{log_id}", status_code=303)


async def _flagged(request: Request, log_id: UUID) -> store.Flagged:
    found = await store.flagged(request.user.organisation_id, log_id)
    if not found:
        raise NotFound(N_("This visit log is not flagged as needing professional help."))
    return found[0]


async def _help_page(request: Request, log_id: UUID, text: str, error: str | None) -> Template:
    item = await _flagged(request, log_id)
    centres = await store.list_entries(request.user.organisation_id, help_kind=item.help_kind)
    return render(request, "directory/help_detail.html", status_code=400 if error else 200, item=item, centres=centres,
                  text=text, error=error, limit=SUGGESTION_LIMIT)


ROUTES = [DirectoryController, HowtoController, ProfessionalHelpController, guide]
