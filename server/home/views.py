"""The start page (what Lotsenbuch is, or the signed-in start) and GET /healthz."""

from __future__ import annotations

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.response import Template

from server.access import public
from server.clock import Clock
from server.db import ping
from server.offline.views import offline_copy
from server.privacy import audit
from server.requests.store import list_assignments
from server.templating import render


UPCOMING = 10  # assignments on the start page


@get("/", opt=public())
async def start(request: Request, clock: NamedDependency[Clock]) -> Template:
    user = request.user
    if user is None:
        return render(request, "home/page.html")
    assignments = []
    if user.role == "volunteer" and user.may_see_client_data:
        assignments = (await list_assignments(user.organisation_id, volunteer_id=user.id, from_day=clock().date()))[:UPCOMING]
        await audit.record(user, "list", [a.client_id for a in assignments], clock())
    return render(request, "home/start.html", headers=offline_copy(request), assignments=assignments)


@get("/healthz", opt=public())
async def healthz(request: Request) -> Response[dict]:
    reachable = await ping(request.app.state.engine)
    body = {"status": "ok" if reachable else "unavailable", "database": "reachable" if reachable else "unreachable"}
    return Response(body, status_code=200 if reachable else 503)
