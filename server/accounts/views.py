"""Signing in and out, invitations and resets, the own profile and the own devices."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.utils.scope.state import ScopeState

from server.access import public, signed_in
from server.accounts import store, throttle
from server.accounts.forms import LoginForm, LoginRequest, Me, SetPasswordForm, password_errors, read_profile
from server.accounts.sessions import cookie_name, expired_cookie, session_cookie
from server.clock import Clock
from server.errors import NotAuthenticated, NotFound, TooManyRequests, api_errors
from server.i18n import N_
from server.security import CLEAR_SITE_DATA
from server.settings import Settings
from server.templating import render

WIPE = {"Clear-Site-Data": CLEAR_SITE_DATA}
BAD_CREDENTIALS = N_("User name or password is wrong.")


def safe_next(target: str | None) -> str:
    """Only a path on this site; anything else (another host, a scheme) goes to the start page."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


async def _check_credentials(request: Request, settings: Settings, now: datetime, login: str, password: str) -> UUID:
    keys = throttle.keys(login, throttle.client_address(request.scope, settings.trusted_proxies))
    wait = await throttle.blocked_for(keys, now)
    if wait:
        raise TooManyRequests(retry_after=wait)
    user_id = await store.authenticate(login, password)
    if user_id is None:
        await throttle.record_failure(keys, now)
        raise NotAuthenticated(BAD_CREDENTIALS)
    await throttle.record_success(login)
    return user_id


async def _sign_in(request: Request, settings: Settings, now: datetime, user_id: UUID, device_name: str | None,
                   lasting: bool | None = None) -> str:
    old = request.cookies.get(cookie_name(settings))
    if old:
        await store.end_session(old)  # a fresh id at every login: no session fixation
    device_id = await store.create_device(user_id, device_name, now) if device_name is not None else None
    return await store.start_session(user_id, now, device_id, lasting)


class SignInController(Controller):
    @get("/login", opt=public())
    async def login_page(self, request: Request, next: FromQuery[str] = "/") -> Template:
        return render(request, "accounts/login.html", "accounts/_login_form.html", login="", error=None, next=safe_next(next))

    @post("/login", opt=public())
    async def login(
        self, request: Request, settings: NamedDependency[Settings], clock: NamedDependency[Clock],
        data: URLEncodedBody[LoginForm],
    ) -> Response:
        try:
            user_id = await _check_credentials(request, settings, clock(), data.login, data.password)
        except (NotAuthenticated, TooManyRequests) as exc:
            return render(
                request, "accounts/login.html", "accounts/_login_form.html", status_code=exc.status_code,
                headers=exc.headers, login=data.login, error=exc.message, next=safe_next(data.next),
            )
        # A volunteer's browser is where offline work waits to be sent: it is always a device,
        # whose session lasts only when they say it is their own phone.
        volunteer = await store.role_of(user_id) == "volunteer"
        device_name = (data.device_name or _device_label(request)) if data.keep or volunteer else None
        token = await _sign_in(request, settings, clock(), user_id, device_name, lasting=bool(data.keep))
        cookie = session_cookie(settings, token, device=bool(data.keep))
        return Redirect(safe_next(data.next), status_code=303, cookies=[cookie])

    @post("/logout", opt=signed_in())
    async def logout(self, request: Request, settings: NamedDependency[Settings]) -> Redirect:
        await store.end_session(request.cookies.get(cookie_name(settings), ""))
        return Redirect("/", status_code=303, cookies=[expired_cookie(settings)], headers=WIPE)

    @post("/api/session", opt=public(), status_code=201, responses=api_errors(429))
    async def api_login(
        self, request: Request, settings: NamedDependency[Settings], clock: NamedDependency[Clock],
        data: JSONBody[LoginRequest],
    ) -> Response[Me]:
        """Sign in a client other than the browser; with device_name, as a long-lived device."""
        user_id = await _check_credentials(request, settings, clock(), data.login, data.password)
        token = await _sign_in(request, settings, clock(), user_id, data.device_name)
        user = (await store.load_session(token, clock())).user
        cookie = session_cookie(settings, token, device=data.device_name is not None)
        return Response(_me(user), status_code=201, cookies=[cookie])

    @delete("/api/session", opt=signed_in(), status_code=204, responses=api_errors())
    async def api_logout(self, request: Request, settings: NamedDependency[Settings]) -> Response[None]:
        await store.end_session(request.cookies.get(cookie_name(settings), ""))
        return Response(None, status_code=204, cookies=[expired_cookie(settings)], headers=WIPE)

    @get("/api/me", opt=signed_in(), responses=api_errors())
    async def me(self, request: Request) -> Me:
        me = _me(request.user)
        me.csrf_token = ScopeState.from_scope(request.scope).csrf_token or None
        return me


async def _open_invitation(request: Request, settings: Settings, now: datetime, token: str):
    """The invitation behind a link; links tried in vain are counted per address, so that
    nobody can guess tokens (the same block as for sign-ins, with Retry-After)."""
    keys = [f"invite:{throttle.client_address(request.scope, settings.trusted_proxies)}"]
    wait = await throttle.blocked_for(keys, now)
    if wait:
        raise TooManyRequests(retry_after=wait)
    opened = await store.open_invitation(token, now)
    if opened is None:
        await throttle.record_failure(keys, now)
    return opened


class InvitationController(Controller):
    """The one-time link a coordinator hands over: choose a password, land in the app."""

    path = "/invite"

    @get("/{token:str}", opt=public())
    async def page(self, request: Request, settings: NamedDependency[Settings], clock: NamedDependency[Clock],
                   token: FromPath[str]) -> Template:
        opened = await _open_invitation(request, settings, clock(), token)
        if opened is None:
            raise NotFound(N_("This link is no longer valid. Please ask your coordinator for a new one."))
        user, purpose = opened
        return render(request, "accounts/invite.html", user=user, purpose=purpose, errors={}, device_name="")

    @post("/{token:str}", opt=public())
    async def choose_password(
        self, request: Request, settings: NamedDependency[Settings], clock: NamedDependency[Clock],
        token: FromPath[str], data: URLEncodedBody[SetPasswordForm],
    ) -> Response:
        opened = await _open_invitation(request, settings, clock(), token)
        if opened is None:
            raise NotFound(N_("This link is no longer valid. Please ask your coordinator for a new one."))
        user, purpose = opened
        errors = password_errors(data.password, data.password_again, user.username)
        if errors:
            return render(
                request, "accounts/invite.html", status_code=400, user=user, purpose=purpose, errors=errors,
                device_name=data.device_name,
            )
        if await store.redeem_invitation(token, data.password, clock()) is None:
            raise NotFound(N_("This link is no longer valid. Please ask your coordinator for a new one."))
        # The phone the link was opened on becomes the volunteer's device.
        device_name = data.device_name.strip() or _device_label(request)
        session = await _sign_in(request, settings, clock(), user.id, device_name)
        return Redirect("/welcome", status_code=303, cookies=[session_cookie(settings, session, device=True)])


class ProfileController(Controller):
    @get("/welcome", opt=signed_in())
    async def welcome(self, request: Request) -> Template:
        return render(request, "accounts/welcome.html")

    @get("/profile", opt=signed_in())
    async def profile(self, request: Request) -> Template:
        user = await store.get_user(request.user.id, request.user.organisation_id)
        return render(request, "accounts/profile.html", "accounts/_profile_form.html", profile=user, errors={}, saved=False)

    @post("/profile", opt=signed_in())
    async def save_profile(self, request: Request) -> Template:
        profile, errors = read_profile(await request.form())
        # A new UI language changes the whole page (lang, dir, the phone's strings), not only the form.
        language_changed = not errors and profile.ui_language != request.user.ui_language
        if not errors:
            await store.update_user(
                request.user.id, request.user.organisation_id, display_name=profile.display_name,
                ui_language=profile.ui_language, languages=[{"code": c, "level": lv} for c, lv in profile.languages],
                districts=profile.districts, availability=profile.availability,
            )
            request.scope["state"]["locale"] = profile.ui_language
        user = await store.get_user(request.user.id, request.user.organisation_id)
        shown = user if not errors else _as_entered(user, profile)
        return render(
            request, "accounts/profile.html", "accounts/_profile_form.html", status_code=400 if errors else 200,
            profile=shown, errors=errors, saved=not errors, headers={"HX-Refresh": "true"} if language_changed else None,
        )

    @get("/devices", opt=signed_in())
    async def devices(self, request: Request) -> Template:
        return render(request, "accounts/devices.html", devices=await store.list_devices(request.user.id))

    @post("/devices/{device_id:uuid}/revoke", opt=signed_in())
    async def revoke(self, request: Request, clock: NamedDependency[Clock], device_id: FromPath[UUID]) -> Redirect:
        if not await store.revoke_device(device_id, request.user.id, clock()):
            raise NotFound()
        return Redirect("/devices", status_code=303)


def _as_entered(user: store.UserRecord, profile) -> store.UserRecord:
    """The stored user with the values just typed, so a rejected form keeps what was entered."""
    import msgspec

    return msgspec.structs.replace(
        user, display_name=profile.display_name, ui_language=profile.ui_language,
        languages=[store.Language(code=c, level=lv) for c, lv in profile.languages],
        districts=profile.districts, availability=profile.availability,
    )


def _device_label(request: Request) -> str:
    """A readable default name for a device, from its user agent."""
    agent = request.headers.get("user-agent", "")
    for marker, label in (("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"), ("Windows", "Windows"),
                          ("Macintosh", "Mac"), ("Linux", "Linux")):
        if marker in agent:
            return label
    return "Browser"


def _me(user: store.CurrentUser) -> Me:
    return Me(
        id=str(user.id), organisation_id=str(user.organisation_id), username=user.username,
        display_name=user.display_name, role=user.role, ui_language=user.ui_language,
        device_id=str(user.device_id) if user.device_id else None,
    )
