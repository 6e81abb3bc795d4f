"""The coordinators' review of submitted visit logs: approve, or return with a comment. The
decision is an edit like any other and goes through the sync engine (one merge path)."""

from __future__ import annotations

import uuid
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from server import sync_store
from server.access import roles
from server.clock import Clock
from server.errors import BadRequest, NotFound
from server.i18n import N_
from server.templating import render
from server.visits.tables import VisitLog
from sync.schema import TEXT_LIMIT
from sync.types import Actor, Mutation

COORDINATION = roles("coordinator")
COLUMNS = (VisitLog.id, VisitLog.version, VisitLog.date, VisitLog.start_time, VisitLog.duration_minutes, VisitLog.place_type,
           VisitLog.place_name, VisitLog.topics, VisitLog.outcome, VisitLog.follow_up_needed, VisitLog.follow_up_text,
           VisitLog.travel_km, VisitLog.expenses_cents, VisitLog.status, VisitLog.coordinator_comment,
           VisitLog.help_kind, VisitLog.owner.display_name.as_alias("volunteer_name"))


async def _logs(organisation_id: UUID, log_id: UUID | None = None, any_status: bool = False) -> list[dict]:
    """Submitted logs (the review queue), or with any_status every live log."""
    query = VisitLog.select(*COLUMNS).where(
        (VisitLog.organisation == organisation_id) & VisitLog.deleted_at.is_null()
    ).order_by(VisitLog.date)
    if not any_status:
        query = query.where(VisitLog.status == "submitted")
    if log_id is not None:
        query = query.where(VisitLog.id == log_id)
    return list(await query)


EDITABLE = ("outcome", "follow_up_text")  # what coordination corrects in a log's text


class ReviewController(Controller):
    path = "/review"

    @get("/", opt=COORDINATION)
    async def index(self, request: Request) -> Template:
        return render(request, "review/list.html", logs=await _logs(request.user.organisation_id))

    @post("/{log_id:uuid}", opt=COORDINATION)
    async def decide(self, request: Request, clock: NamedDependency[Clock], log_id: FromPath[UUID]) -> Redirect:
        user = request.user
        found = await _logs(user.organisation_id, log_id)
        if not found:
            raise NotFound(N_("This visit log is not waiting for review (any more)."))
        form = await request.form()
        decision, comment = str(form.get("decision", "")), str(form.get("comment", "")).strip()
        if decision == "approve":
            fields = {"status": "approved"}
        elif decision == "return" and comment and len(comment) <= TEXT_LIMIT:
            fields = {"status": "returned", "coordinator_comment": comment}
        elif decision == "return":
            raise BadRequest(N_("Please write a comment that tells the volunteer what to change."))
        else:
            raise BadRequest(N_("Please approve the visit log or return it."))
        result = await _write(request, clock, log_id, found[0]["version"], fields)
        if result.status == "rejected":
            raise BadRequest(N_("The decision could not be saved: %(reason)s"), reason=result.reason)
        return Redirect("/review", status_code=303)

    @get("/{log_id:uuid}/edit", opt=COORDINATION)
    async def edit_page(self, request: Request, log_id: FromPath[UUID]) -> Template:
        found = await _logs(request.user.organisation_id, log_id, any_status=True)
        if not found:
            raise NotFound()
        return render(request, "review/edit.html", log=found[0])

    @post("/{log_id:uuid}/edit", opt=COORDINATION)
    async def edit(self, request: Request, clock: NamedDependency[Clock], log_id: FromPath[UUID]) -> Redirect:
        """A coordinator's correction, against the version the form showed: an edit the
        volunteer made meanwhile merges or becomes a conflict, as on the phone (R6)."""
        found = await _logs(request.user.organisation_id, log_id, any_status=True)
        if not found:
            raise NotFound()
        form = await request.form()
        shown = str(form.get("version", ""))
        if not shown.isdigit():
            raise BadRequest(N_("The form lacks the version it showed; please reload it."))
        fields = {name: str(form.get(name, "")) for name in EDITABLE if name in form}
        if any(len(value) > TEXT_LIMIT for value in fields.values()):
            raise BadRequest(N_("A text is longer than %(limit)s characters."), limit=TEXT_LIMIT)
        result = await _write(request, clock, log_id, int(shown), fields)
        if result.status == "rejected":
            raise BadRequest(N_("The change could not be saved: %(reason)s"), reason=result.reason)
        if result.status == "conflict":
            return Redirect(f"/conflicts/{result.conflict_id}", status_code=303)
        return Redirect(f"/review/{log_id}/edit", status_code=303)


async def _write(request: Request, clock: Clock, log_id: UUID, version: int, fields: dict):
    """One coordinator's edit of a log, through the sync engine like every other write."""
    user = request.user
    mutation = Mutation(mutation_id=1, entity="visit_log", id=log_id, op="upsert", base_version=version, fields=fields)
    actor = Actor(user_id=user.id, organisation_id=user.organisation_id, role=user.role)
    [result] = await sync_store.apply_push(request.app.state.engine, actor, [mutation], clock(), uuid.uuid4)
    return result

