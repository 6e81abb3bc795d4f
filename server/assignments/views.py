"""Assignments: a volunteer's own, or all of the organisation for coordination."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from server.access import require_client_access, roles
from server.clock import Clock
from server.errors import NotFound
from server.requests.store import list_assignments
from server.templating import render


class AssignmentController(Controller):
    path = "/assignments"

    @get("/", opt=roles("volunteer", "coordinator"))
    async def index(self, request: Request, clock: NamedDependency[Clock]) -> Template:
        require_client_access(request)
        user = request.user
        mine = user.id if user.role == "volunteer" else None
        assignments = await list_assignments(user.organisation_id, volunteer_id=mine, from_day=clock().date())
        return render(request, "assignments/list.html", assignments=assignments)

    @get("/{assignment_id:uuid}", opt=roles("volunteer", "coordinator"))
    async def detail(self, request: Request, assignment_id: FromPath[UUID]) -> Template:
        require_client_access(request)
        user = request.user
        mine = user.id if user.role == "volunteer" else None
        found = await list_assignments(user.organisation_id, volunteer_id=mine, assignment_id=assignment_id)
        if not found:
            raise NotFound()
        return render(request, "assignments/detail.html", assignment=found[0])
