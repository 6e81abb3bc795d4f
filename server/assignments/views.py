"""Assignments: a volunteer's own, or all of the organisation for coordination."""

from __future__ import annotations

from urllib.parse import urlencode
from uuid import UUID

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from server.access import require_client_access, roles
from server.clock import Clock
from server.errors import NotFound
from server.privacy import audit
from server.offline.views import offline_copy
from server.requests.store import AssignmentRecord, list_assignments
from server.templating import render


class AssignmentController(Controller):
    path = "/assignments"

    @get("/", opt=roles("volunteer", "coordinator"))
    async def index(self, request: Request, clock: NamedDependency[Clock]) -> Template:
        require_client_access(request)
        user = request.user
        mine = user.id if user.role == "volunteer" else None
        assignments = await list_assignments(user.organisation_id, volunteer_id=mine, from_day=clock().date())
        await audit.record(user, "list", [a.client_id for a in assignments], clock())
        return render(request, "assignments/list.html", headers=offline_copy(request), assignments=assignments)

    @get("/{assignment_id:uuid}", opt=roles("volunteer", "coordinator"))
    async def detail(self, request: Request, clock: NamedDependency[Clock], assignment_id: FromPath[UUID]) -> Template:
        require_client_access(request)
        user = request.user
        mine = user.id if user.role == "volunteer" else None
        found = await list_assignments(user.organisation_id, volunteer_id=mine, assignment_id=assignment_id)
        if not found:
            raise NotFound()
        assignment = found[0]
        await audit.record(user, "assignment", [assignment.client_id], clock())
        return render(request, "assignments/detail.html", headers=offline_copy(request), assignment=assignment,
                      visit_query=visit_prefill(assignment), note_query=_query(assignment_id=assignment.id, client_id=assignment.client_id))


# What a visit for a purpose usually means as a place; a public office could be any of several.
PLACE_FOR_PURPOSE = {"arzt": "arztpraxis", "kita_schule": "kita_schule", "wohnung": "wohnungsamt", "arbeit": "jobcenter"}


def visit_prefill(assignment: AssignmentRecord) -> str:
    """The visit-log form's query: what the assignment already knows, filled in on the phone."""
    return _query(
        assignment_id=assignment.id, client_id=assignment.client_id, date=assignment.day, start_time=assignment.start_time,
        place_name=assignment.place, place_type=PLACE_FOR_PURPOSE.get(assignment.purpose),
    )


def _query(**values: object) -> str:
    return urlencode({name: str(value) for name, value in values.items() if value not in (None, "")})
