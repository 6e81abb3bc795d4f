"""What every response must carry, checked on any response a test gets (the matrix checks every route)."""

from __future__ import annotations

import httpx

from server.security import BASE_HEADERS, HSTS

# The session and CSRF cookies: readable by no script, never sent cross-site, bound to this host.
SHELL = {"/sw.js", "/manifest.webmanifest", "/offline"}
COOKIE_FLAGS = {"secure", "httponly", "path=/", "samesite=lax"}


def assert_secure_response(response: httpx.Response, *, https: bool = True) -> None:
    where = f"{response.request.method} {response.request.url.path} -> {response.status_code}"
    csp = response.headers.get("content-security-policy", "")
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "object-src 'none'" in csp, where
    assert "frame-ancestors 'none'" in csp and "base-uri 'none'" in csp, where
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, where
    for name, value in BASE_HEADERS.items():
        assert response.headers.get(name) == value, (where, name, response.headers.get(name))
    if https:
        assert response.headers.get("strict-transport-security") == HSTS, where
    cache, path = response.headers.get("cache-control"), response.request.url.path
    if path.startswith("/static/"):
        assert cache == "no-cache", where
    else:
        assert cache in ("no-store", "no-cache", "private, no-cache"), (where, cache)
        assert "HX-Request" in response.headers.get("vary", ""), where
    if cache == "no-cache":  # the same for everyone: the app shell
        assert path.startswith("/static/") or path in SHELL, (where, cache)
    if cache == "private, no-cache":  # kept by the phone only for the user it names
        assert response.headers.get("x-lotsenbuch-user"), where
    if response.headers.get_list("set-cookie"):
        assert cache == "no-store", (where, "a response that sets a cookie must never be kept in a cache")
    for cookie in response.headers.get_list("set-cookie"):
        assert_cookie_flags(cookie, where)


def assert_cookie_flags(cookie: str, where: str = "") -> None:
    name, attributes = cookie.split("=", 1)[0], [part.strip().lower() for part in cookie.split(";")[1:]]
    assert name.startswith("__Host-"), (where, cookie)
    assert COOKIE_FLAGS <= set(attributes), (where, cookie)
    assert not any(a.startswith("domain=") for a in attributes), (where, cookie)
