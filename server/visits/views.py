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
           VisitLog.owner.display_name.as_alias("volunteer_name"))


async def _submitted(organisation_id: UUID, log_id: UUID | None = None) -> list[dict]:
    query = VisitLog.select(*COLUMNS).where(
        (VisitLog.organisation == organisation_id) & (VisitLog.status == "submitted") & VisitLog.deleted_at.is_null()
    ).order_by(VisitLog.date)
    if log_id is not None:
        query = query.where(VisitLog.id == log_id)
    return list(await query)


class ReviewController(Controller):
    path = "/review"

    @get("/", opt=COORDINATION)
    async def index(self, request: Request) -> Template:
        return render(request, "review/list.html", logs=await _submitted(request.user.organisation_id))

    @post("/{log_id:uuid}", opt=COORDINATION)
    async def decide(self, request: Request, clock: NamedDependency[Clock], log_id: FromPath[UUID]) -> Redirect:
        user = request.user
        found = await _submitted(user.organisation_id, log_id)
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
        mutation = Mutation(mutation_id=1, entity="visit_log", id=log_id, op="upsert", base_version=found[0]["version"],
                            fields=fields)
        actor = Actor(user_id=user.id, organisation_id=user.organisation_id, role=user.role)
        [result] = await sync_store.apply_push(request.app.state.engine, actor, [mutation], clock(), uuid.uuid4)
        if result.status == "rejected":
            raise BadRequest(N_("The decision could not be saved: %(reason)s"), reason=result.reason)
        return Redirect("/review", status_code=303)
