"""The own profile: languages, districts, availability and the UI language."""

from server.accounts import store
from tests.conftest import csrf_headers, login


async def test_a_volunteer_edits_their_profile_and_the_app_speaks_their_language(client, demo):
    await login(client, "lotse1")
    page = await client.get("/profile")
    assert 'value="Amina Haddad"' in page.text
    form = {"display_name": "Amina H.", "language": ["ar", "fr", ""], "level": ["native", "basic", "basic"],
            "districts": "Nordstadt", "availability": ["fri-pm"], "ui_language": "en"}
    response = await client.post("/profile", data=form, headers=await csrf_headers(client))
    assert response.status_code == 200
    assert "Your profile was saved." in response.text  # already in the newly chosen language
    assert '<html lang="en"' in (await client.get("/")).text
    me = (await client.get("/api/me")).json()
    record = await store.get_user(me["id"], me["organisation_id"])
    assert [(x.code, x.level) for x in record.languages] == [("ar", "native"), ("fr", "basic")]
    assert record.districts == ["Nordstadt"] and record.availability == ["fri-pm"]


async def test_an_htmx_save_returns_the_form_fragment(client, demo):
    await login(client, "lotse2")
    headers = {**await csrf_headers(client), "hx-request": "true"}
    response = await client.post("/profile", data={"display_name": "", "ui_language": "de"}, headers=headers)
    assert response.status_code == 400
    assert "<html" not in response.text and 'id="profile-form"' in response.text
    assert 'id="display_name-error"' in response.text


async def test_duplicate_languages_are_refused_and_nothing_changes(client, demo):
    await login(client, "lotse2")
    form = {"display_name": "Jonas", "language": ["uk", "uk"], "level": ["basic", "fluent"], "ui_language": "de"}
    response = await client.post("/profile", data=form, headers=await csrf_headers(client))
    assert response.status_code == 400
    me = (await client.get("/api/me")).json()
    assert me["display_name"] == "Jonas Becker"


async def test_a_language_without_its_level_is_refused_and_the_name_typed_stays(client, demo):
    await login(client, "lotse2")
    form = {"display_name": "Jonas B.", "language": ["uk", "ru"], "level": ["basic"], "ui_language": "de"}
    response = await client.post("/profile", data=form, headers=await csrf_headers(client))
    assert response.status_code == 400 and 'value="Jonas B."' in response.text


async def test_choosing_arabic_turns_the_whole_app_right_to_left(client, demo):
    await login(client, "lotse1")
    headers = {**await csrf_headers(client), "hx-request": "true"}
    form = {"display_name": "Amina Haddad", "ui_language": "ar"}
    response = await client.post("/profile", data=form, headers=headers)
    assert response.status_code == 200
    assert response.headers.get("hx-refresh") == "true"  # lang, dir and the phone's strings change with the page
    page = (await client.get("/", headers={"accept-language": "de"})).text
    assert '<html lang="ar" dir="rtl">' in page and "مرحبًا، Amina Haddad" in page
    assert '"locale": "ar"' in page
    unchanged = await client.post("/profile", data=form, headers=headers)
    assert "hx-refresh" not in unchanged.headers  # the same language again keeps the htmx swap


async def test_every_offered_ui_language_is_accepted_and_others_are_not(client, demo):
    await login(client, "lotse2")
    for code in ("de", "en", "ar", "uk", "tr"):
        response = await client.post("/profile", data={"display_name": "Jonas", "ui_language": code},
                                     headers=await csrf_headers(client))
        assert response.status_code == 200, code
        assert f'<html lang="{code}"' in response.text
    refused = await client.post("/profile", data={"display_name": "Jonas", "ui_language": "fr"},
                                headers=await csrf_headers(client))
    assert refused.status_code == 400
