"""Every response carries the security headers and a CSP without inline code; cookies carry their flags."""

import pytest

from tests.conftest import csrf_headers, login, signed_in
from tests.server.security_checks import assert_secure_response

PATHS = ["/", "/login", "/healthz", "/static/app.css", "/no-such-page", "/api/me", "/api/schema/openapi.json"]


@pytest.mark.parametrize("path", PATHS)
async def test_every_response_carries_the_security_headers(client, path):
    response = await client.get(path)
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "object-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp and "base-uri 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["strict-transport-security"].startswith("max-age=")
    assert response.headers["cache-control"] in ("no-store", "no-cache")


async def test_pages_are_not_stored_and_vary_on_htmx(client):
    response = await client.get("/login")
    assert response.headers["cache-control"] == "no-store"
    assert "HX-Request" in response.headers["vary"]


async def test_static_files_set_no_cookie(client):
    response = await client.get("/static/app.css")
    assert response.status_code == 200
    assert "set-cookie" not in response.headers


async def test_pages_have_no_inline_script_or_style(client):
    html = (await client.get("/login")).text
    assert "<script>" not in html and "<style" not in html and " style=" not in html and "onclick" not in html
    assert '<script src="/static/vendor/htmx-2.0.11.min.js"' in html
    assert '"allowEval":false' in html and '"selfRequestsOnly":true' in html and '"historyCacheSize":0' in html


def _cookie_attributes(response, name):
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(name + "="):
            return [part.strip().lower() for part in header.split(";")]
    raise AssertionError(f"no {name} cookie in {response.headers.get_list('set-cookie')}")


async def test_csrf_cookie_is_host_prefixed_secure_httponly_lax(client):
    attributes = _cookie_attributes(await client.get("/login"), "__Host-csrf")
    assert {"secure", "httponly", "path=/", "samesite=lax"} <= set(attributes)
    assert not any(a.startswith("domain=") for a in attributes)


async def test_session_cookie_is_host_prefixed_secure_httponly_lax(client, demo):
    attributes = _cookie_attributes(await login(client, "lotse1"), "__Host-sid")
    assert {"secure", "httponly", "path=/", "samesite=lax"} <= set(attributes)
    assert not any(a.startswith("domain=") for a in attributes)


# Every route of the app, for every role, is checked by the authorisation matrix with
# tests/server/security_checks.py; here the answers no route handler makes.

@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("GET", "/no-such-page", {}, 404),
        ("GET", "/api/no-such-thing", {}, 404),
        ("GET", "/static/no-such-file.js", {}, 404),
        ("GET", "/static/app.css", {}, 200),
        ("GET", "/sw.js", {}, 200),
        ("GET", "/manifest.webmanifest", {}, 200),
        ("GET", "/offline", {}, 200),
        ("HEAD", "/login", {}, 405),  # Litestar answers HEAD only where a route names it
        ("OPTIONS", "/login", {}, 204),
        ("PUT", "/login", {}, 405),
        ("GET", "/logout", {}, 405),
        ("DELETE", "/api/me", {}, 405),
        ("GET", "/api/me", {}, 401),
        ("GET", "/clients", {}, 401),
        ("POST", "/login", {"data": {"login": "x", "password": "y"}}, 403),  # no CSRF token
        ("POST", "/api/session", {"content": b"{", "headers": {"content-type": "text/plain"}}, 415),
        ("POST", "/api/session", {"content": b"x" * 2_000_000, "headers": {"content-type": "application/json"}}, 413),
        ("GET", "/api/schema/openapi.json", {}, 200),
    ],
)
async def test_errors_files_and_odd_methods_carry_the_headers(client, method, path, kwargs, status):
    response = await client.request(method, path, **kwargs)
    assert response.status_code == status, response.text[:300]
    assert_secure_response(response)


async def test_a_static_file_answered_304_carries_the_headers(client):
    first = await client.get("/static/app.css")
    again = await client.get("/static/app.css", headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304
    assert_secure_response(again)


async def test_json_errors_redirects_and_sign_in_out_carry_the_headers_and_cookie_flags(client, demo):
    headers = await csrf_headers(client)
    bad = await client.post("/api/session", json={"login": "lotse1"}, headers=headers)
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("application/json")
    assert_secure_response(bad)
    signed_in = await login(client, "koordination")
    assert signed_in.status_code == 303 and signed_in.headers.get_list("set-cookie")
    assert_secure_response(signed_in)
    assert_secure_response(await client.get("/", follow_redirects=False))
    signed_out = await client.post("/logout", headers=await csrf_headers(client))
    assert signed_out.status_code in (200, 303) and any("Max-Age=0" in c for c in signed_out.headers.get_list("set-cookie"))
    assert_secure_response(signed_out)


async def test_a_revoked_device_gets_the_wipe_with_flagged_cookies(app, client, demo):
    headers = await csrf_headers(client)
    phone = await client.post("/api/session", json={"login": "lotse1", "password": "demo", "device_name": "Handy"}, headers=headers)
    device = phone.json()["device_id"]
    async with signed_in(app, "lotse1") as laptop:
        await laptop.post(f"/devices/{device}/revoke", headers=await csrf_headers(laptop))
    wiped = await client.get("/")
    assert wiped.headers["x-lotsenbuch-wipe"] == "device-revoked" and wiped.headers["clear-site-data"]
    assert_secure_response(wiped)
