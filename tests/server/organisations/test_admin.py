"""Administrators: organisations, and the people in each, invited by link."""

import re

import pytest

from server.accounts.tables import User
from server.organisations.tables import Organisation
from tests.conftest import csrf_headers, make_client, signed_in, visible_text


@pytest.fixture
async def admin(app, demo):
    async with signed_in(app, "admin") as http:
        yield http


async def test_an_admin_adds_an_organisation_and_its_first_coordinator(app, admin):
    headers = await csrf_headers(admin)
    response = await admin.post("/admin/organisations", data={"name": "AWO Kreisverband Beispiel"}, headers=headers)
    assert response.status_code == 303
    page = await admin.get(response.headers["location"])
    assert "AWO Kreisverband Beispiel" in page.text
    organisation_id = response.headers["location"].rsplit("/", 1)[1]
    response = await admin.post(
        f"/admin/organisations/{organisation_id}/users",
        data={"display_name": "Petra Lange", "username": "plange", "email": "", "role": "coordinator"}, headers=headers,
    )
    assert response.status_code == 200
    link = re.search(r'value="https://testserver\.local(/invite/[^"]+)"', response.text).group(1)
    async with make_client(app) as browser:
        await browser.get(link)
        answer = await browser.post(link, data={"password": "ein sicheres Passwort", "password_again": "ein sicheres Passwort"},
                                    headers=await csrf_headers(browser))
        assert answer.status_code == 303
        me = (await browser.get("/api/me")).json()
    assert me["role"] == "coordinator" and me["organisation_id"] == organisation_id
    overview = visible_text((await admin.get("/admin/organisations")).text)
    assert "AWO Kreisverband Beispiel 1 Person" in overview


async def test_organisation_names_are_unique_and_sensible(admin):
    headers = await csrf_headers(admin)
    for name in ("Kommunales Integrationszentrum Musterstadt", "X", ""):
        response = await admin.post("/admin/organisations", data={"name": name}, headers=headers)
        assert response.status_code == 400, name
        assert "keine andere Organisation" in response.text
    assert await Organisation.count() == 1


async def test_a_new_person_needs_a_valid_role_and_free_name(admin):
    organisation_id = (await Organisation.select(Organisation.id).first())["id"]
    headers = await csrf_headers(admin)
    bad_role = await admin.post(f"/admin/organisations/{organisation_id}/users",
                                data={"display_name": "Z", "username": "zed", "role": "superuser"}, headers=headers)
    assert bad_role.status_code == 400 and 'id="role-error"' in bad_role.text
    taken = await admin.post(f"/admin/organisations/{organisation_id}/users",
                             data={"display_name": "Z", "username": "lotse1", "role": "volunteer"}, headers=headers)
    assert taken.status_code == 400 and "schon vergeben" in taken.text
    assert await User.count() == 4


async def test_an_admin_cannot_deactivate_themself_but_can_others(admin):
    me = (await admin.get("/api/me")).json()
    headers = await csrf_headers(admin)
    assert (await admin.post(f"/admin/users/{me['id']}/active", data={"active": "0"}, headers=headers)).status_code == 404
    coordinator = await User.objects().where(User.username == "koordination").first()
    assert (await admin.post(f"/admin/users/{coordinator.id}/active", data={"active": "0"}, headers=headers)).status_code == 303
    assert (await User.objects().where(User.id == coordinator.id).first()).active is False


async def test_admins_see_no_volunteer_pages(admin):
    assert (await admin.get("/volunteers")).status_code == 404
