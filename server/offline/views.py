"""GET /sw.js, /manifest.webmanifest, /offline, /offline-pack and the volunteer's pages that
work without a network: /records, /visits/form, /notes/form (filled in on the phone)."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from functools import cache

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.response import Template

import pwa
from server.access import public, require_client_access, roles
from server.clock import Clock
from server.requests.store import list_assignments
from server.templating import render

PACK_DAYS_BACK = 7  # a visit log is often written a few days after the visit
PACK_LIMIT = 60  # assignments in the offline pack
FORMS = ("/records", "/visits/form", "/notes/form")
NO_CACHE = {"cache-control": "no-cache"}
SHELL = {**public(), "exclude_from_csrf": True}  # the same for everyone, no forms: no CSRF cookie, cacheable


def offline_copy(request: Request) -> dict[str, str]:
    """Headers that let the service worker keep this page for its user (and nobody else); only
    a volunteer's own pages qualify. Everything else stays no-store."""
    user = request.user
    if user is None or user.role != "volunteer":
        return {}
    return {"cache-control": "private, no-cache", "x-lotsenbuch-user": str(user.id)}


def _shell_files() -> list[str]:
    files = sorted(p for p in pwa.STATIC.rglob("*") if p.is_file() and p.suffix in {".css", ".js", ".png", ".svg"})
    return [f"/static/{p.relative_to(pwa.STATIC).as_posix()}" for p in files]


@cache
def service_worker() -> bytes:
    """sw.js with its version (a hash of itself and of every shell file) and its shell list."""
    source = (pwa.ROOT / "sw.js").read_text(encoding="utf-8")
    shell = [*_shell_files(), "/offline", "/manifest.webmanifest"]
    digest = hashlib.sha256(source.encode())
    for url in shell[:-2]:
        digest.update((pwa.STATIC / url.removeprefix("/static/")).read_bytes())
    digest.update((pwa.ROOT / "manifest.webmanifest").read_bytes())
    for template in ("base.html", "offline/page.html"):  # the offline page is in the shell; other pages are fetched fresh
        digest.update((pwa.TEMPLATES / template).read_bytes())
    version = digest.hexdigest()[:16]
    return source.replace("__VERSION__", version).replace("__SHELL__", json.dumps(shell)).encode()


@get("/sw.js", opt=SHELL, include_in_schema=False)
async def sw_js() -> Response[bytes]:
    return Response(service_worker(), media_type="text/javascript",
                    headers={**NO_CACHE, "service-worker-allowed": "/"})


@get("/manifest.webmanifest", opt=SHELL, include_in_schema=False)
async def manifest() -> Response[bytes]:
    return Response((pwa.ROOT / "manifest.webmanifest").read_bytes(), media_type="application/manifest+json",
                    headers=NO_CACHE)


@get("/offline", opt=SHELL, include_in_schema=False)
async def offline_page(request: Request) -> Template:
    """The page for a page never seen while offline: the same for everyone, so it names nobody."""
    return render(request, "offline/page.html", headers=NO_CACHE, anonymous=True)


@get("/offline-pack", opt=roles("volunteer"), include_in_schema=False)
async def offline_pack(request: Request, clock: NamedDependency[Clock]) -> dict:
    """The pages this volunteer needs in the coming days, for the service worker to keep."""
    user = request.user
    urls = ["/"]
    if user.may_see_client_data:
        urls += [*FORMS, "/assignments", "/offers", "/guide"]  # the guide's copy comes by sync, after the pledge
        since = clock().date() - timedelta(days=PACK_DAYS_BACK)
        assignments = await list_assignments(user.organisation_id, volunteer_id=user.id, from_day=since)
        urls += [f"/assignments/{a.id}" for a in assignments[:PACK_LIMIT]]
    return {"user_id": str(user.id), "urls": urls}


@get("/records", opt=roles("volunteer"))
async def records_page(request: Request) -> Template:
    require_client_access(request)
    return render(request, "records/page.html", headers=offline_copy(request))


@get("/visits/form", opt=roles("volunteer"))
async def visit_form(request: Request) -> Template:
    require_client_access(request)
    return render(request, "records/visit_form.html", headers=offline_copy(request))


@get("/notes/form", opt=roles("volunteer"))
async def note_form(request: Request) -> Template:
    require_client_access(request)
    return render(request, "records/note_form.html", headers=offline_copy(request))


ROUTES = [sw_js, manifest, offline_page, offline_pack, records_page, visit_form, note_form]
