"""Security headers on every response, and the body checks every request passes before a handler.

The body checks close what Litestar leaves open out of the box: a JSON route that parses a
text/plain or form body (a cross-site request a browser may send without preflight), invalid
UTF-8 and deeply nested JSON (both surface as 500 otherwise), and bodies over the limit. They
also refuse a NUL character in any text (PostgreSQL cannot store one and answered 500), except
inside sync mutations, where the engine rejects that one mutation (R9), and bring every text of a
JSON or form body to Unicode NFC, so that one name typed two ways is stored one way.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import parse_qsl, urlencode

import msgspec
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from server.i18n import N_
from server.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
    ]
)

BASE_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
HSTS = "max-age=63072000; includeSubDomains"
BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


WIPE_HEADER = "x-lotsenbuch-wipe"
CLEAR_SITE_DATA = '"cache", "storage"'


def security_headers(*, hsts: bool, session_cookie: str):
    """A before_send hook: every HTTP response, 404s of unknown paths included, gets the headers;
    a request from a revoked device also gets the signal to wipe everything it holds."""

    fixed = [(name.encode(), value.encode()) for name, value in BASE_HEADERS.items()]
    if hsts:
        fixed.append((b"strict-transport-security", HSTS.encode()))
    wipe = [(b"clear-site-data", CLEAR_SITE_DATA.encode()), (WIPE_HEADER.encode(), b"device-revoked"),
            (b"set-cookie", (f"{session_cookie}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"
                             + ("; Secure" if session_cookie.startswith("__Host-") else "")).encode())]
    replaced = {name for name, _ in fixed} | {b"cache-control"}
    replaced_on_wipe = replaced | {name for name, _ in wipe[:2]}

    async def before_send(message: Message, scope: Scope) -> None:
        # On the raw header list, once per response: every response passes here.
        if message["type"] != "http.response.start":
            return
        headers = [(name.lower(), value) for name, value in message.get("headers") or ()]
        cache_control = next((value for name, value in headers if name == b"cache-control"), None)
        wiping = scope.get("state", {}).get("wipe")
        kept = [(name, value) for name, value in headers if name not in (replaced_on_wipe if wiping else replaced)]
        kept += fixed + wipe if wiping else fixed
        if scope["path"].startswith("/static/"):
            kept.append((b"cache-control", b"no-cache"))
        else:
            if cache_control is None or any(name == b"set-cookie" for name, _ in kept):  # a cookie is never kept in a cache
                cache_control = b"no-store"
            kept.append((b"cache-control", cache_control))
            if not any(name == b"vary" and b"hx-request" in value.lower() for name, value in kept):
                kept.append((b"vary", b"HX-Request"))
        message["headers"] = kept

    return before_send


def body_checks(app: ASGIApp, *, max_body_bytes: int) -> ASGIApp:
    """Read a request body once, refuse it with a 4xx if it is unacceptable, else replay it."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_body_bytes:
            raise PayloadTooLarge(N_("The request body is larger than %(limit)s bytes."), limit=max_body_bytes)
        body = await _read_body(receive, max_body_bytes)
        if body:
            checked = check_body(scope["path"], headers.get("content-type", ""), body)
            if checked != body:  # normalised to NFC: the handler reads the new body, of its own length
                scope["headers"] = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
                scope["headers"].append((b"content-length", str(len(checked)).encode()))
                body = checked
        await app(scope, _replay(body), send)

    return middleware


def check_body(path: str, content_type: str, body: bytes) -> bytes:
    """The body as the handler shall read it (text in NFC), or a 4xx saying what is wrong with it."""
    media_type = content_type.split(";")[0].strip().lower()
    if path.startswith("/api/"):
        if media_type != "application/json":
            raise UnsupportedMediaType()
        try:
            document = msgspec.json.decode(body)
        except UnicodeDecodeError:
            raise BadRequest(N_("The request body is not valid UTF-8.")) from None
        except RecursionError:
            raise BadRequest(N_("The request body is nested too deeply.")) from None
        except msgspec.DecodeError as exc:
            raise BadRequest(N_("The request body is not valid JSON: %(reason)s"), reason=str(exc)) from None
        if body.isascii() and b"\\u" not in body:
            return body  # nothing to normalise, and no escaped NUL
        # A NUL in a mutation is that mutation's rejection (R9), so one entry never blocks an outbox.
        outside_mutations = {**document, "mutations": None} if isinstance(document, dict) else document
        if _holds_nul(outside_mutations):
            raise BadRequest(N_("The request contains a NUL character."))
        normalised = _nfc(document)
        return body if normalised == document else msgspec.json.encode(normalised)
    if media_type == FORM_TYPES[0]:
        try:
            fields = parse_qsl(body.decode("utf-8"), keep_blank_values=True, encoding="utf-8", errors="strict")
        except UnicodeDecodeError:
            raise BadRequest(N_("The form data is not valid UTF-8.")) from None
        if any("\x00" in name or "\x00" in value for name, value in fields):
            raise BadRequest(N_("The form contains a NUL character."))
        if all(unicodedata.is_normalized("NFC", value) for _, value in fields):
            return body
        return urlencode([(name, unicodedata.normalize("NFC", value)) for name, value in fields]).encode()
    if media_type not in FORM_TYPES:
        raise UnsupportedMediaType(N_("Forms must be sent as form data."))
    return body


def _holds_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    return isinstance(value, list) and any(_holds_nul(item) for item in value)


def _nfc(value: object) -> object:
    """Text as one canonical form (NFC): a name typed on two keyboards is one name (docs/architecture.md)."""
    if isinstance(value, str):
        return value if unicodedata.is_normalized("NFC", value) else unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {key: _nfc(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_nfc(item) for item in value]
    return value


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(N_("The request body is larger than %(limit)s bytes."), limit=limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive
