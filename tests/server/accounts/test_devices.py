"""Device sessions: 90 days from the last use, listed, revocable, and a revoked phone wipes itself."""

from tests.conftest import BASE_URL, csrf_headers, login


async def keep_login(client, username="lotse1", device_name="Mein Handy"):
    headers = await csrf_headers(client)
    return await client.post(
        "/login", data={"login": username, "password": "demo", "keep": "1", "device_name": device_name}, headers=headers
    )


def max_age(response) -> int:
    header = next(h for h in response.headers.get_list("set-cookie") if h.startswith("__Host-sid="))
    return int(next(p.split("=")[1] for p in header.split(";") if p.strip().lower().startswith("max-age")))


async def test_keeping_a_phone_signed_in_makes_a_device(client, demo):
    response = await keep_login(client)
    assert max_age(response) == 90 * 24 * 3600
    me = (await client.get("/api/me")).json()
    assert me["device_id"]
    page = await client.get("/devices")
    assert "Mein Handy" in page.text


async def test_a_browser_sign_in_is_no_device(client, demo):
    response = await login(client, "koordination")
    assert max_age(response) == 12 * 3600
    assert (await client.get("/api/me")).json()["device_id"] is None


async def test_a_phone_offline_for_weeks_still_syncs_and_ninety_idle_days_end_it(client, demo, clock):
    await keep_login(client)
    clock.advance(days=60)  # weeks without connection: no browser-style idle or absolute limit
    assert (await client.get("/api/me")).status_code == 200
    clock.advance(days=89)  # renewed by that use
    assert (await client.get("/api/me")).status_code == 200
    clock.advance(days=90, minutes=1)
    assert (await client.get("/api/me")).status_code == 401


async def test_revoking_a_device_ends_its_access_and_tells_it_to_wipe(client, demo, app):
    from tests.conftest import make_client

    await keep_login(client)
    token = client.cookies["__Host-sid"]
    device_id = (await client.get("/api/me")).json()["device_id"]
    async with make_client(app) as laptop:  # the volunteer, on another browser
        await login(laptop, "lotse1")
        response = await laptop.post(f"/devices/{device_id}/revoke", headers=await csrf_headers(laptop))
        assert response.status_code == 303
        assert "gesperrt" in (await laptop.get("/devices")).text
    for path in ("/api/me", "/profile", "/"):  # whatever the phone asks for next
        client.cookies.set("__Host-sid", token, domain="testserver.local")
        response = await client.get(path)
        assert response.headers["x-lotsenbuch-wipe"] == "device-revoked", path
        assert response.headers["clear-site-data"] == '"cache", "storage"'
        assert "__Host-sid" not in client.cookies  # the cookie is cleared with the wipe
    client.cookies.set("__Host-sid", token, domain="testserver.local")
    assert (await client.get("/api/me")).status_code == 401


async def test_a_coordinator_revokes_a_volunteers_phone(client, demo, app):
    from server.accounts.tables import User
    from tests.conftest import make_client

    await keep_login(client, "lotse2")
    device_id = (await client.get("/api/me")).json()["device_id"]
    volunteer_id = (await User.select(User.id).where(User.username == "lotse2").first())["id"]
    async with make_client(app) as office:
        await login(office, "koordination")
        page = await office.get(f"/volunteers/{volunteer_id}")
        assert "Mein Handy" in page.text
        response = await office.post(f"/volunteers/{volunteer_id}/devices/{device_id}/revoke", headers=await csrf_headers(office))
        assert response.status_code == 303
    assert (await client.get("/api/me")).headers["x-lotsenbuch-wipe"] == "device-revoked"


async def test_a_volunteer_cannot_revoke_someone_elses_device(client, demo, app):
    from tests.conftest import make_client

    await keep_login(client, "lotse2")
    device_id = (await client.get("/api/me")).json()["device_id"]
    async with make_client(app) as other:
        await login(other, "lotse1")
        response = await other.post(f"/devices/{device_id}/revoke", headers=await csrf_headers(other))
        assert response.status_code == 404
    assert (await client.get("/api/me")).status_code == 200


async def test_an_api_client_signs_in_as_a_device(client, demo):
    headers = await csrf_headers(client)
    response = await client.post("/api/session", json={"login": "lotse1", "password": "demo", "device_name": "Skript"}, headers=headers)
    assert response.status_code == 201 and response.json()["device_id"]
    assert max_age(response) == 90 * 24 * 3600
    assert BASE_URL.startswith("https://")
