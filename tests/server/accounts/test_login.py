"""Sign in and out: generic failures, a new session id at login, timeouts enforced on the server."""

import pytest

from server.accounts.tables import UserSession
from tests.conftest import csrf_headers, login, visible_text


async def test_the_start_page_leads_to_login(client):
    html = (await client.get("/")).text
    assert 'href="/login"' in html
    assert "Integrationslotsinnen und -lotsen" in visible_text(html)


async def test_a_volunteer_signs_in_and_sees_the_start_page(client, demo):
    response = await login(client, "lotse1")
    assert response.status_code == 303 and response.headers["location"] == "/"
    page = visible_text((await client.get("/")).text)
    assert "Hallo, Amina Haddad" in page
    assert "Lotsin oder Lotse" in page


async def test_sign_in_by_email_ignores_case(client, demo):
    assert (await login(client, "Koordination@KI-Musterstadt.example")).status_code == 303


@pytest.mark.parametrize(("username", "password"), [("lotse1", "wrong"), ("niemand", "demo"), ("", "")])
async def test_failures_do_not_reveal_whether_the_account_exists(client, demo, username, password):
    response = await login(client, username, password)
    assert response.status_code == 401
    assert "Benutzername oder Passwort ist falsch." in response.text
    assert await UserSession.count() == 0


async def test_an_inactive_user_cannot_sign_in(client, demo):
    from server.accounts.tables import User

    await User.update({User.active: False}).where(User.username == "lotse2")
    assert (await login(client, "lotse2")).status_code == 401


async def test_login_rotates_the_session_id(client, demo):
    await login(client, "lotse1")
    first = client.cookies["__Host-sid"]
    await login(client, "lotse2")
    second = client.cookies["__Host-sid"]
    assert first != second
    assert await UserSession.count() == 1  # the old session is gone, not merely replaced in the cookie
    client.cookies.set("__Host-sid", first, domain="testserver.local")
    assert (await client.get("/api/me")).status_code == 401


async def test_logout_ends_the_session_and_wipes_the_browser(client, demo):
    await login(client, "lotse1")
    token = client.cookies["__Host-sid"]
    response = await client.post("/logout", headers=await csrf_headers(client))
    assert response.status_code == 303
    assert response.headers["clear-site-data"] == '"cache", "storage"'
    assert "__Host-sid" not in client.cookies
    client.cookies.set("__Host-sid", token, domain="testserver.local")
    assert (await client.get("/api/me")).status_code == 401  # replaying the old cookie does not work


async def test_idle_timeout_is_enforced_on_the_server(client, demo, clock):
    await login(client, "koordination")
    clock.advance(hours=1, minutes=59)
    assert (await client.get("/api/me")).status_code == 200
    clock.advance(hours=2, minutes=1)
    assert (await client.get("/api/me")).status_code == 401
    assert await UserSession.count() == 0


async def test_absolute_timeout_is_enforced_even_when_active(client, demo, clock):
    await login(client, "koordination")
    for _ in range(11):
        clock.advance(hours=1)
        assert (await client.get("/api/me")).status_code == 200
    clock.advance(hours=1, minutes=1)
    assert (await client.get("/api/me")).status_code == 401


async def test_login_without_csrf_token_is_refused(client, demo):
    response = await client.post("/login", data={"login": "lotse1", "password": "demo"})
    assert response.status_code == 403
    assert await UserSession.count() == 0


async def test_a_cross_site_form_post_is_refused(client, demo):
    """A page elsewhere can make the browser send the cookie, but never the matching token."""
    await client.get("/login")
    response = await client.post("/logout", data={"_csrf_token": "forged"}, headers={"origin": "https://evil.example"})
    assert response.status_code == 403


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)"])
async def test_login_never_redirects_off_site(client, demo, target):
    headers = await csrf_headers(client)
    response = await client.post("/login", data={"login": "lotse1", "password": "demo", "next": target}, headers=headers)
    assert response.headers["location"] == "/"


async def test_login_returns_to_the_page_asked_for(client, demo):
    page = await client.get("/login", params={"next": "/profil"})
    assert 'value="/profil"' in page.text
    headers = await csrf_headers(client)
    response = await client.post("/login", data={"login": "lotse1", "password": "demo", "next": "/profil"}, headers=headers)
    assert response.headers["location"] == "/profil"


async def test_an_api_client_signs_in_with_json(client, demo):
    headers = await csrf_headers(client)
    response = await client.post("/api/session", json={"login": "lotse1", "password": "demo"}, headers=headers)
    assert response.status_code == 201
    me = (await client.get("/api/me")).json()
    assert me["username"] == "lotse1" and me["role"] == "volunteer" and me["display_name"] == "Amina Haddad"
    assert (await client.delete("/api/session", headers=headers)).status_code == 204
    assert (await client.get("/api/me")).status_code == 401


async def test_a_wrong_password_on_the_api_is_401_json(client, demo):
    headers = await csrf_headers(client)
    response = await client.post("/api/session", json={"login": "lotse1", "password": "x"}, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == "Benutzername oder Passwort ist falsch."
