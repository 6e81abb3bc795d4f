"""The push endpoints the phone uses: the public key, subscribing and unsubscribing."""

from __future__ import annotations

import base64
import binascii
import re
from ipaddress import ip_address
from typing import Annotated
from urllib.parse import urlsplit

import msgspec
from litestar import Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.response import Redirect, Template

from server.access import signed_in
from server.clock import Clock
from server.errors import BadRequest, api_errors
from server.i18n import N_
from server.push import store
from server.push.alerts import CHOICES
from server.templating import render
from sync.schema import TIME_OF_DAY

Endpoint = Annotated[str, msgspec.Meta(min_length=10, max_length=1000)]


class Keys(msgspec.Struct, forbid_unknown_fields=True):
    p256dh: Annotated[str, msgspec.Meta(max_length=200)]
    auth: Annotated[str, msgspec.Meta(max_length=50)]


class Subscription(msgspec.Struct):
    """What PushSubscription.toJSON() gives in the browser (expirationTime is ignored)."""

    endpoint: Endpoint
    keys: Keys
    expirationTime: int | None = None  # noqa: N815 - the browser's name


class Unsubscription(msgspec.Struct):
    endpoint: Endpoint


class PublicKey(msgspec.Struct):
    public_key: str


def _bytes(value: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return b""


def _check(subscription: Subscription) -> None:
    parts = urlsplit(subscription.endpoint)
    loopback = False
    try:
        loopback = ip_address(parts.hostname or "").is_loopback
    except ValueError:
        pass
    if not (parts.scheme == "https" or (parts.scheme == "http" and loopback)) or not parts.hostname:
        raise BadRequest(N_("A push endpoint must be an https address."))
    key = _bytes(subscription.keys.p256dh)
    if len(key) != 65 or key[0] != 4:
        raise BadRequest(N_("The subscription's p256dh is not a P-256 public key."))
    if len(_bytes(subscription.keys.auth)) != 16:
        raise BadRequest(N_("The subscription's auth secret must be 16 bytes."))


@get("/api/push/key", opt=signed_in(), responses=api_errors())
async def public_key(clock: NamedDependency[Clock]) -> PublicKey:
    """The applicationServerKey to subscribe with; a different one means: subscribe again."""
    return PublicKey(public_key=(await store.current_key(clock())).public_key)


@post("/api/push/subscriptions", opt=signed_in(), status_code=201, responses=api_errors())
async def subscribe(request: Request, clock: NamedDependency[Clock], data: JSONBody[Subscription]) -> Response[None]:
    _check(data)
    user = request.user
    await store.subscribe(user.organisation_id, user.id, user.device_id, data.endpoint, data.keys.p256dh, data.keys.auth, clock())
    return Response(None, status_code=201)


@delete("/api/push/subscriptions", opt=signed_in(), status_code=204, responses=api_errors())
async def unsubscribe(request: Request, data: JSONBody[Unsubscription]) -> None:
    await store.unsubscribe(request.user.id, data.endpoint)


@get("/alerts", opt=signed_in())
async def alerts_page(request: Request) -> Template:
    alerts_off, quiet_from, quiet_until = await store.preferences(request.user.id)
    return _page(request, alerts_off, quiet_from, quiet_until, saved=request.query_params.get("saved") == "1")


@post("/alerts", opt=signed_in())
async def save_alerts(request: Request) -> Response:
    form = await request.form()
    wanted = set(form.getall("wanted", []))
    alerts_off = [kind for kind in CHOICES if kind not in wanted]
    quiet_from, quiet_until = str(form.get("quiet_from", "")), str(form.get("quiet_until", ""))
    if not all(re.fullmatch(TIME_OF_DAY, value) for value in (quiet_from, quiet_until)):
        return _page(request, alerts_off, quiet_from, quiet_until, error=N_("Please give the quiet hours as HH:MM."),
                     status_code=400)
    await store.save_preferences(request.user.id, alerts_off, quiet_from, quiet_until)
    return Redirect("/alerts?saved=1", status_code=303)


def _page(request: Request, alerts_off: list[str], quiet_from: str, quiet_until: str, saved: bool = False,
          error: str | None = None, status_code: int = 200) -> Template:
    return render(request, "push/alerts.html", status_code=status_code, choices=CHOICES, alerts_off=alerts_off,
                  quiet_from=quiet_from, quiet_until=quiet_until, saved=saved, error=error)


ROUTES = [public_key, subscribe, unsubscribe, alerts_page, save_alerts]
