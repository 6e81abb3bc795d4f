"""The session middleware: who is asking (scope["user"]) and in which language to answer."""

from __future__ import annotations

from litestar.datastructures import Cookie
from litestar.types import ASGIApp, Receive, Scope, Send

from server.clock import Clock
from server.accounts.store import BROWSER_ABSOLUTE, DEVICE_LIFETIME, load_session
from server.i18n import choose_locale
from server.settings import Settings


def cookie_name(settings: Settings) -> str:
    # The __Host- prefix requires Secure; plain-HTTP local use gets a plain name.
    return "__Host-sid" if settings.cookie_secure else "lotsenbuch-sid"


def session_cookie(settings: Settings, token: str, device: bool = False) -> Cookie:
    lifetime = DEVICE_LIFETIME if device else BROWSER_ABSOLUTE
    return Cookie(
        key=cookie_name(settings), value=token, path="/", secure=settings.cookie_secure,
        httponly=True, samesite="lax", max_age=int(lifetime.total_seconds()),
    )


def expired_cookie(settings: Settings) -> Cookie:
    return Cookie(
        key=cookie_name(settings), value="", path="/", secure=settings.cookie_secure,
        httponly=True, samesite="lax", max_age=0,
    )


def session_middleware(settings: Settings, now: Clock):
    name = cookie_name(settings)

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            user, wipe = None, False
            if scope["type"] == "http" and not scope["path"].startswith("/static/"):
                token = _cookie(scope, name)
                if token:
                    loaded = await load_session(token, now())
                    user, wipe = loaded.user, loaded.wipe
            scope["user"] = user
            scope["auth"] = None
            state = scope.setdefault("state", {})
            state["wipe"] = wipe  # a revoked device: security_headers adds the wipe signal
            state["locale"] = choose_locale(_header(scope, b"accept-language"), user.ui_language if user else None)
            await app(scope, receive, send)

        return middleware

    return factory


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def _cookie(scope: Scope, name: str) -> str | None:
    raw = _header(scope, b"cookie")
    if not raw:
        return None
    for part in raw.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name and value:
            return value
    return None
