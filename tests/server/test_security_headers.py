"""Every response carries the security headers and a CSP without inline code; cookies carry their flags."""

import pytest

from tests.conftest import login

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
