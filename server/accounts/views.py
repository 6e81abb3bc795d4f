"""Sign in and out: the login page, the JSON session API for other clients, and who am I."""

from __future__ import annotations

from datetime import datetime
from litestar import Controller, Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody, URLEncodedBody
from litestar.response import Redirect, Template

from server.clock import Clock
from server.access import public, signed_in
from server.errors import NotAuthenticated
from server.i18n import N_
from server.accounts import store
from server.accounts.forms import LoginForm, LoginRequest, Me
from server.accounts.sessions import cookie_name, expired_cookie, session_cookie
from server.settings import Settings
from server.templating import render

WIPE = {"Clear-Site-Data": '"cache", "storage"'}
BAD_CREDENTIALS = N_("User name or password is wrong.")


def safe_next(target: str | None) -> str:
    """Only a path on this site; anything else (another host, a scheme) goes to the start page."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


async def _sign_in(request: Request, settings: Settings, now: datetime, user_id) -> str:
    old = request.cookies.get(cookie_name(settings))
    if old:
        await store.end_session(old)  # a fresh id at every login: no session fixation
    return await store.start_session(user_id, now)


class AccountController(Controller):
    @get("/login", opt=public())
    async def login_page(self, request: Request, next: FromQuery[str] = "/") -> Template:
        return render(request, "accounts/login.html", "accounts/_login_form.html", login="", error=None, next=safe_next(next))

    @post("/login", opt=public())
    async def login(
        self, request: Request, settings: NamedDependency[Settings], clock: NamedDependency[Clock], data: URLEncodedBody[LoginForm]
    ) -> Response:
        user_id = await store.authenticate(data.login, data.password)
        if user_id is None:
            return render(
                request, "accounts/login.html", "accounts/_login_form.html", status_code=401,
                login=data.login, error=BAD_CREDENTIALS, next=safe_next(data.next),
            )
        token = await _sign_in(request, settings, clock(), user_id)
        return Redirect(safe_next(data.next), status_code=303, cookies=[session_cookie(settings, token)])

    @post("/logout", opt=signed_in())
    async def logout(self, request: Request, settings: NamedDependency[Settings]) -> Redirect:
        await store.end_session(request.cookies.get(cookie_name(settings), ""))
        return Redirect("/", status_code=303, cookies=[expired_cookie(settings)], headers=WIPE)

    @post("/api/session", opt=public(), status_code=201)
    async def api_login(
        self, request: Request, settings: NamedDependency[Settings], clock: NamedDependency[Clock], data: JSONBody[LoginRequest]
    ) -> Response[Me]:
        user_id = await store.authenticate(data.login, data.password)
        if user_id is None:
            raise NotAuthenticated(BAD_CREDENTIALS)
        token = await _sign_in(request, settings, clock(), user_id)
        user = await store.load_session(token, clock())
        return Response(_me(user), status_code=201, cookies=[session_cookie(settings, token)])

    @delete("/api/session", opt=signed_in(), status_code=204)
    async def api_logout(self, request: Request, settings: NamedDependency[Settings]) -> Response[None]:
        await store.end_session(request.cookies.get(cookie_name(settings), ""))
        return Response(None, status_code=204, cookies=[expired_cookie(settings)], headers=WIPE)

    @get("/api/me", opt=signed_in())
    async def me(self, request: Request) -> Me:
        return _me(request.user)


def _me(user: store.CurrentUser) -> Me:
    return Me(
        id=str(user.id), organisation_id=str(user.organisation_id), username=user.username,
        display_name=user.display_name, role=user.role, ui_language=user.ui_language,
    )
