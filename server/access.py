"""Authorisation in one place: every route names who may reach it, and one guard enforces it.

A route handler carries `opt=public()`, `opt=signed_in()` or `opt=roles("coordinator", ...)`.
create_app refuses to start when a route names none, so no route is open by omission.
"""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from server.errors import Forbidden, NotAuthenticated, NotFound
from server.i18n import N_

ROLES = ("volunteer", "coordinator", "admin")
PUBLIC = "public"
SIGNED_IN = "signed_in"


def public() -> dict:
    return {"access": PUBLIC}


def signed_in() -> dict:
    return {"access": SIGNED_IN}


def roles(*allowed: str) -> dict:
    unknown = set(allowed) - set(ROLES)
    if unknown or not allowed:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    return {"access": frozenset(allowed)}


def access_rule(handler: BaseRouteHandler) -> object:
    return handler.opt.get("access")


async def guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    # async: Litestar runs a plain function guard in a thread, a hop on every request
    rule = access_rule(handler)
    if rule == PUBLIC or connection.scope.get("method") == "OPTIONS":
        return
    user = connection.scope.get("user")
    if user is None:
        raise NotAuthenticated()
    if rule == SIGNED_IN:
        return
    if isinstance(rule, frozenset) and user.role in rule:
        return
    # Another role's page answers as if it did not exist: it reveals nothing.
    raise NotFound()


def require_client_access(connection: ASGIConnection) -> None:
    """Client data needs a volunteer's confidentiality pledge (coordinators always have it)."""
    if not connection.user.may_see_client_data:
        raise Forbidden(N_("Your confidentiality pledge is not recorded yet; ask your coordinator."))
