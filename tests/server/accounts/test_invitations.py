"""Invitation and reset links: one-time, 72 hours, the newest only, no mail server needed."""

import re

import pytest

from server.accounts.tables import User
from tests.conftest import csrf_headers, login, make_client, signed_in, visible_text


async def volunteer_id(username):
    return (await User.select(User.id).where(User.username == username).first())["id"]


async def create_volunteer(office, username="neu", name="Layla Nouri"):
    headers = await csrf_headers(office)
    form = {"username": username, "display_name": name, "email": "", "language": ["ar", "de"], "level": ["native", "fluent"],
            "districts": "Nordstadt, Hafen", "availability": ["mon-am", "thu-eve"], "ui_language": "de"}
    response = await office.post("/volunteers", data=form, headers=headers)
    assert response.status_code == 303, response.text
    return response.headers["location"].rsplit("/", 1)[1]


async def invitation(office, vid, purpose="invite") -> str:
    response = await office.post(f"/volunteers/{vid}/invite", data={"purpose": purpose}, headers=await csrf_headers(office))
    assert response.status_code == 200
    assert 'src="data:image/svg+xml' in response.text  # the QR code, no script needed
    return re.search(r'value="https://testserver\.local(/invite/[^"]+)"', response.text).group(1)


@pytest.fixture
async def office(app, demo):
    async with signed_in(app, "koordination") as http:
        yield http


async def choose(app, link, password="ein langes Passwort", again=None, device_name="Laylas Handy"):
    async with make_client(app) as phone:
        page = await phone.get(link)
        headers = await csrf_headers(phone)
        response = await phone.post(link, data={"password": password, "password_again": again or password, "device_name": device_name}, headers=headers)
        me = await phone.get("/api/me")
        return page, response, me


async def test_an_invited_volunteer_chooses_a_password_and_the_phone_becomes_a_device(app, office):
    vid = await create_volunteer(office)
    link = await invitation(office, vid)
    page, response, me = await choose(app, link)
    assert "Willkommen bei Lotsenbuch, Layla Nouri" in visible_text(page.text)
    assert "neu" in page.text  # the user name to remember
    assert response.status_code == 303 and response.headers["location"] == "/welcome"
    assert me.json()["username"] == "neu" and me.json()["device_id"]
    assert "Laylas Handy" in (await office.get(f"/volunteers/{vid}")).text


async def test_a_link_works_once(app, office):
    link = await invitation(office, await create_volunteer(office))
    await choose(app, link)
    page, response, _ = await choose(app, link, password="ein anderes Passwort")
    assert page.status_code == 404 and response.status_code == 404
    assert "Dieser Link gilt nicht mehr" in page.text


async def test_a_link_expires_after_72_hours(app, office, clock):
    link = await invitation(office, await create_volunteer(office))
    clock.advance(hours=72, seconds=1)
    page, response, _ = await choose(app, link)
    assert page.status_code == 404 and response.status_code == 404


async def test_a_new_link_replaces_the_old_one(app, office):
    vid = await create_volunteer(office)
    first = await invitation(office, vid)
    second = await invitation(office, vid)
    assert (await choose(app, first))[1].status_code == 404
    assert (await choose(app, second))[1].status_code == 303


@pytest.mark.parametrize(
    ("password", "again", "message"),
    [("kurz", "kurz", "mindestens 10 Zeichen"), ("ein langes Passwort", "ein anderes Passwort", "stimmen nicht überein"),
     ("neu", "neu", "mindestens 10 Zeichen")],
)
async def test_a_bad_password_is_explained_and_the_link_stays_valid(app, office, password, again, message):
    link = await invitation(office, await create_volunteer(office))
    _, response, me = await choose(app, link, password=password, again=again, device_name="Mein Gerät")
    assert response.status_code == 400
    assert message in response.text
    assert 'value="Mein Gerät"' in response.text  # what was typed stays
    assert me.status_code == 401
    assert (await choose(app, link))[1].status_code == 303


async def test_a_reset_sets_a_new_password_and_signs_out_everywhere(app, office, client):
    await login(client, "lotse1")
    assert (await client.get("/api/me")).status_code == 200
    link = await invitation(office, await volunteer_id("lotse1"), purpose="reset")
    _, response, _ = await choose(app, link, password="ganz neues Passwort")
    assert response.status_code == 303
    assert (await client.get("/api/me")).status_code == 401
    assert (await login(client, "lotse1", "demo")).status_code == 401
    assert (await login(client, "lotse1", "ganz neues Passwort")).status_code == 303


async def test_a_deactivated_volunteer_cannot_use_a_link_and_is_signed_out(app, office, client):
    await login(client, "lotse2")
    vid = await volunteer_id("lotse2")
    link = await invitation(office, vid, purpose="reset")
    response = await office.post(f"/volunteers/{vid}/active", data={"active": "0"}, headers=await csrf_headers(office))
    assert response.status_code == 303
    assert (await client.get("/api/me")).status_code == 401
    assert (await choose(app, link))[1].status_code == 404
    assert (await login(client, "lotse2")).status_code == 401
