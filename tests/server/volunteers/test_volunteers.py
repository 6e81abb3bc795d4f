"""The coordinator's volunteer pages: create, edit, pledge, and nothing of another organisation."""

import pytest

from server.accounts import store
from server.accounts.tables import User
from server.organisations.store import create_organisation
from tests.conftest import csrf_headers, login, make_client, signed_in, visible_text


@pytest.fixture
async def office(app, demo):
    async with signed_in(app, "koordination") as http:
        yield http


async def user(username):
    return await User.objects().where(User.username == username).first()


async def test_the_list_shows_own_volunteers_with_pledge_state(office, clock):
    other = await create_organisation("Caritas Nachbarstadt", clock())
    await store.create_user(organisation_id=other, username="fremd", display_name="Fremde Person", role="volunteer",
                            password=None, now=clock())
    text = visible_text((await office.get("/volunteers")).text)
    assert "Amina Haddad" in text and "Jonas Becker" in text
    assert "Fremde Person" not in text
    assert "noch keine Verpflichtung" in text


async def test_creating_a_volunteer_keeps_what_was_typed_when_something_is_wrong(office):
    headers = await csrf_headers(office)
    form = {"username": "x", "display_name": "Samir Kaya", "email": "kein-mail", "language": ["tr"], "level": ["native"],
            "districts": "Weststadt", "ui_language": "de"}
    response = await office.post("/volunteers", data=form, headers=headers)
    assert response.status_code == 400
    assert 'value="Samir Kaya"' in response.text and 'value="Weststadt"' in response.text
    assert 'id="username-error"' in response.text and 'id="email-error"' in response.text
    assert await user("x") is None


async def test_a_taken_user_name_is_refused(office):
    headers = await csrf_headers(office)
    response = await office.post("/volunteers", data={"username": "lotse1", "display_name": "Zweite"}, headers=headers)
    assert response.status_code == 400
    assert "schon vergeben" in response.text


async def test_creating_and_editing_a_profile(office):
    headers = await csrf_headers(office)
    form = {"username": "samir", "display_name": "Samir Kaya", "language": ["tr", "ku"], "level": ["native", "fluent"],
            "districts": "Weststadt, Altstadt", "availability": ["tue-pm", "sat-am"], "ui_language": "de"}
    response = await office.post("/volunteers", data=form, headers=headers)
    assert response.status_code == 303
    samir = await user("samir")
    assert samir.role == "volunteer" and samir.password_hash is None
    record = await store.get_user(samir.id, samir.organisation)
    assert [(lang.code, lang.level) for lang in record.languages] == [("tr", "native"), ("ku", "fluent")]
    assert record.districts == ["Weststadt", "Altstadt"] and record.availability == ["tue-pm", "sat-am"]
    edit = {**form, "display_name": "Samir K.", "availability": ["wed-eve"], "email": "samir@example.org"}
    response = await office.post(f"/volunteers/{samir.id}", data=edit, headers=headers)
    assert response.status_code == 200 and "Gespeichert." in response.text
    record = await store.get_user(samir.id, samir.organisation)
    assert record.display_name == "Samir K." and record.availability == ["wed-eve"] and record.email == "samir@example.org"


@pytest.mark.parametrize("field", ["language", "availability"])
async def test_values_outside_the_offered_choices_are_refused(office, field):
    lotse = await user("lotse1")
    before = await store.get_user(lotse.id, lotse.organisation)
    headers = await csrf_headers(office)
    form = {"display_name": "Amina Haddad", "ui_language": "de",
            "language": ["xx" if field == "language" else "ar"], "level": ["native"],
            "availability": ["sun-midnight" if field == "availability" else "mon-am"]}
    response = await office.post(f"/volunteers/{lotse.id}", data=form, headers=headers)
    assert response.status_code == 400
    assert await store.get_user(lotse.id, lotse.organisation) == before


async def test_recording_the_pledge_opens_client_data_to_the_volunteer(app, office, clock):
    lotse = await user("lotse2")  # the demo volunteer whose pledge is not on record yet
    async with make_client(app) as phone:
        await login(phone, "lotse2")
        assert "noch nicht erfasst" in visible_text((await phone.get("/")).text)
        headers = await csrf_headers(office)
        future = await office.post(f"/volunteers/{lotse.id}/pledge", data={"signed_on": "2026-03-03"}, headers=headers)
        assert future.status_code == 400 and "nicht in der Zukunft" in future.text
        garbage = await office.post(f"/volunteers/{lotse.id}/pledge", data={"signed_on": "gestern"}, headers=headers)
        assert garbage.status_code == 400
        response = await office.post(f"/volunteers/{lotse.id}/pledge", data={"signed_on": "2026-02-20"}, headers=headers)
        assert response.status_code == 303
        assert "20.02.2026" in (await office.get(f"/volunteers/{lotse.id}")).text
        assert "noch nicht erfasst" not in visible_text((await phone.get("/")).text)


def test_who_may_see_client_data():
    from datetime import date
    from uuid import uuid4

    def person(role, pledge=None):
        return store.CurrentUser(id=uuid4(), organisation_id=uuid4(), username="u", display_name="U", role=role,
                                 ui_language="de", pledge_signed_on=pledge)

    assert not person("volunteer").may_see_client_data
    assert person("volunteer", date(2026, 1, 5)).may_see_client_data
    assert person("coordinator").may_see_client_data
    assert not person("admin").may_see_client_data
