"""The conflict pages: both values side by side; keep one, take the other, or write a merged one.

A resolution is an ordinary edit through the sync engine, naming the conflict it closes (R14)."""

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
from server.conflicts.store import OpenConflict, open_conflicts
from server.errors import BadRequest, NotFound
from server.i18n import N_
from server.templating import render
from sync.schema import ENTITIES
from sync.types import Actor, Mutation

FIELD_LABELS = {
    "body": N_("Note"), "shared": N_("Shared with coordination"), "duration_minutes": N_("Duration in minutes"),
    "outcome": N_("Outcome"), "follow_up_text": N_("Follow-up"), "place_name": N_("Place"), "place_type": N_("Kind of place"),
    "topics": N_("Topics"), "travel_km": N_("Travel km"), "expenses_cents": N_("Expenses in cents"), "date": N_("Date"),
    "start_time": N_("Start"), "status": N_("Status"), "coordinator_comment": N_("Comment of the coordination"),
    "follow_up_needed": N_("Follow-up needed"), "follow_up_due": N_("Follow-up due"), "*": N_("Deleted record"),
}
ENTITY_LABELS = {"note": N_("Note"), "visit_log": N_("Visit log")}


def _guard(request: Request) -> None:
    if not request.user.may_see_client_data:
        raise NotFound()


async def _conflict(request: Request, conflict_id: UUID) -> OpenConflict:
    _guard(request)
    found = await open_conflicts(request.user, conflict_id)
    if not found:
        raise NotFound()
    return found[0]


class ConflictController(Controller):
    path = "/conflicts"

    @get("/", opt=roles("volunteer", "coordinator"))
    async def index(self, request: Request) -> Template:
        _guard(request)
        return render(request, "conflicts/list.html", conflicts=await open_conflicts(request.user),
                      fields=FIELD_LABELS, entities=ENTITY_LABELS)

    @get("/{conflict_id:uuid}", opt=roles("volunteer", "coordinator"))
    async def detail(self, request: Request, conflict_id: FromPath[UUID]) -> Template:
        conflict = await _conflict(request, conflict_id)
        return render(request, "conflicts/detail.html", conflict=conflict, fields=FIELD_LABELS, entities=ENTITY_LABELS,
                      kind=_kind(conflict), error=None, edited=None)

    @post("/{conflict_id:uuid}", opt=roles("volunteer", "coordinator"))
    async def resolve(self, request: Request, clock: NamedDependency[Clock], conflict_id: FromPath[UUID]) -> Template | Redirect:
        conflict = await _conflict(request, conflict_id)
        form = await request.form()
        choice, edited = str(form.get("choice", "")), form.get("value")
        mutation = _resolution(conflict, choice, edited)
        user = request.user
        actor = Actor(user_id=user.id, organisation_id=user.organisation_id, role=user.role)
        [result] = await sync_store.apply_push(request.app.state.engine, actor, [mutation], clock(), uuid.uuid4)
        if result.status in ("rejected", "conflict"):  # the record changed again meanwhile: show it anew
            return render(request, "conflicts/detail.html", status_code=409, conflict=(await _conflict(request, conflict_id)),
                          fields=FIELD_LABELS, entities=ENTITY_LABELS, kind=_kind(conflict),
                          error=result.reason or N_("The record changed meanwhile; please decide again."), edited=edited)
        return Redirect("/conflicts", status_code=303)


def _kind(conflict: OpenConflict) -> str:
    if conflict.field == "*":
        return "tombstone"
    return ENTITIES[conflict.entity][conflict.field].kind


def _resolution(conflict: OpenConflict, choice: str, edited: object) -> Mutation:
    """The edit a choice stands for; every one closes the conflict."""
    base = dict(mutation_id=1, entity=conflict.entity, id=conflict.record_id, base_version=conflict.record_version,
                resolves=[conflict.id])
    if conflict.field == "*":
        if choice == "restore":
            return Mutation(op="upsert", fields=dict(conflict.client_value), **base)
        if choice == "keep":
            return Mutation(op="delete", **base)
    elif choice == "keep":
        return Mutation(op="upsert", fields={}, **base)
    elif choice == "other":
        return Mutation(op="upsert", fields={conflict.field: conflict.client_value}, **base)
    elif choice == "edited" and isinstance(edited, str) and _kind(conflict) == "text":
        return Mutation(op="upsert", fields={conflict.field: edited}, **base)
    raise BadRequest(N_("Please choose one of the offered ways to resolve the conflict."))
