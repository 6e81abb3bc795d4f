"""The start page (what Lotsenbuch is, or the signed-in start) and GET /healthz."""

from __future__ import annotations

from litestar import Request, Response, get
from litestar.response import Template

from server.access import public
from server.db import ping
from server.templating import render


@get("/", opt=public())
async def start(request: Request) -> Template:
    if request.user is None:
        return render(request, "home/page.html")
    return render(request, "home/start.html")


@get("/healthz", opt=public())
async def healthz(request: Request) -> Response[dict]:
    reachable = await ping(request.app.state.engine)
    body = {"status": "ok" if reachable else "unavailable", "database": "reachable" if reachable else "unreachable"}
    return Response(body, status_code=200 if reachable else 503)
