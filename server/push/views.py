"""The push endpoints the phone uses: the public key, subscribing and unsubscribing."""

from __future__ import annotations

import base64
import binascii
from ipaddress import ip_address
from typing import Annotated
from urllib.parse import urlsplit

import msgspec
from litestar import Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from server.access import signed_in
from server.clock import Clock
from server.errors import BadRequest
from server.i18n import N_
from server.push import store

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


@get("/api/push/key", opt=signed_in())
async def public_key(clock: NamedDependency[Clock]) -> PublicKey:
    """The applicationServerKey to subscribe with; a different one means: subscribe again."""
    return PublicKey(public_key=(await store.current_key(clock())).public_key)


@post("/api/push/subscriptions", opt=signed_in(), status_code=201)
async def subscribe(request: Request, clock: NamedDependency[Clock], data: JSONBody[Subscription]) -> Response[None]:
    _check(data)
    user = request.user
    await store.subscribe(user.organisation_id, user.id, user.device_id, data.endpoint, data.keys.p256dh, data.keys.auth, clock())
    return Response(None, status_code=201)


@delete("/api/push/subscriptions", opt=signed_in(), status_code=204)
async def unsubscribe(request: Request, data: JSONBody[Unsubscription]) -> None:
    await store.unsubscribe(request.user.id, data.endpoint)


ROUTES = [public_key, subscribe, unsubscribe]
