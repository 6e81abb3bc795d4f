"""GET /static/{path}: the app's own files, answered 304 when the browser already has them.

Litestar's static router sends the whole file on every request; with `Cache-Control: no-cache`
(a phone must see a new version at once) that meant every page view re-downloaded htmx and the
modules. Here each file is read once, tagged with a hash of its content, and a request that
names that tag gets 304 and no body. Only files present at startup are served: a path outside
the index is a 404, whatever dots or slashes it holds.

Text files are gzipped once, at the highest level, when the index is read; the app's response
compression (server/app.py), which would compress them again on every request, leaves /static
alone.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from functools import cache

from litestar import Request, Response, get
from litestar.params import FromPath

import pwa
from server.access import public
from server.errors import NotFound

TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png"}


COMPRESSED_TYPES = ("text/", "image/svg+xml", "application/json", "application/manifest+json")
GZIP_FROM = 1024  # bytes; below that gzip saves next to nothing (server/app.py compresses pages from here too)


class StaticFile:
    __slots__ = ("body", "etag", "gzipped", "gzipped_etag", "media_type")

    def __init__(self, body: bytes, media_type: str):
        self.body = body
        digest = hashlib.sha256(body).hexdigest()[:32]
        self.etag = f'"{digest}"'
        self.media_type = media_type
        compress = media_type.startswith(COMPRESSED_TYPES) and len(body) >= GZIP_FROM
        self.gzipped = gzip.compress(body, compresslevel=9, mtime=0) if compress else None
        self.gzipped_etag = f'"{digest}-gzip"'  # another representation, another tag


@cache
def index() -> dict[str, StaticFile]:
    files = {}
    for path in pwa.STATIC.rglob("*"):
        if path.is_file():
            media_type = TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            files[path.relative_to(pwa.STATIC).as_posix()] = StaticFile(path.read_bytes(), media_type)
    return files


@get("/static/{file_path:path}", opt={**public(), "exclude_from_csrf": True}, include_in_schema=False)
async def static_file(request: Request, file_path: FromPath[str]) -> Response[bytes]:
    found = index().get(file_path.lstrip("/"))
    if found is None:
        raise NotFound()
    gzipped = found.gzipped is not None and "gzip" in request.headers.get("accept-encoding", "")
    headers = {"etag": found.gzipped_etag if gzipped else found.etag, "cache-control": "no-cache"}
    if found.gzipped is not None:
        headers["vary"] = "Accept-Encoding"
    if headers["etag"] in request.headers.get("if-none-match", ""):
        return Response(b"", status_code=304, headers=headers)
    if gzipped:
        headers["content-encoding"] = "gzip"
        return Response(found.gzipped, media_type=found.media_type, headers=headers)
    return Response(found.body, media_type=found.media_type, headers=headers)
