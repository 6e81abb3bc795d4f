"""Authorisation in one place: every route names who may reach it, and the guard enforces it."""

import pytest
from litestar import Litestar, get

from server.access import PUBLIC, access_rule, guard, roles
from server.app import _require_access_rules


def test_every_route_of_the_app_names_its_access_rule(app):
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if handler.http_methods != {"OPTIONS"}:
                assert access_rule(handler) is not None, route.path


def test_a_route_without_a_rule_stops_the_start():
    @get("/forgotten")
    async def forgotten() -> str:
        return "open by omission"

    with pytest.raises(RuntimeError, match="/forgotten"):
        _require_access_rules(Litestar([forgotten]))


def test_unknown_roles_are_a_programming_error():
    with pytest.raises(ValueError):
        roles("superuser")


def _signed_in_routes(app):
    return [
        (route.path, method)
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        for method in handler.http_methods - {"OPTIONS", "HEAD"}
        if access_rule(handler) != PUBLIC
    ]


async def test_every_non_public_route_refuses_an_anonymous_caller(app, client):
    routes = _signed_in_routes(app)
    assert routes, "expected some protected routes"
    await client.get("/login")
    headers = {"x-csrftoken": client.cookies["__Host-csrf"]}
    for path, method in routes:
        response = await client.request(method, path, headers=headers)
        assert response.status_code == 401, (method, path, response.status_code)


class _Handler:
    opt = roles("coordinator")


class _Connection:
    def __init__(self, role: str | None):
        self.scope = {"user": type("User", (), {"role": role})() if role else None, "method": "GET"}


def test_the_guard_lets_the_named_role_through_and_hides_the_page_from_others():
    from server.errors import NotAuthenticated, NotFound

    guard(_Connection("coordinator"), _Handler())
    for role in ("volunteer", "admin"):
        with pytest.raises(NotFound):
            guard(_Connection(role), _Handler())
    with pytest.raises(NotAuthenticated):
        guard(_Connection(None), _Handler())
