"""Bad input gets a clear 4xx with a sentence and changes nothing; never a 500."""

import unicodedata
from urllib.parse import quote

import pytest

from server.accounts.tables import UserSession
from tests.conftest import csrf_headers, signed_in, visible_text

GOOD = b'{"login": "lotse1", "password": "demo"}'


async def post_api(client, body: bytes, content_type: str = "application/json"):
    headers = {**await csrf_headers(client), "content-type": content_type, "accept-language": "en"}
    return await client.post("/api/session", content=body, headers=headers)


@pytest.mark.parametrize(
    ("body", "content_type", "status", "words"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 400, "nested too deeply"),
        (b'{"login": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "application/json", 400, "nested too deeply"),
        (b'{"login": "\xff\xfe", "password": "demo"}', "application/json", 400, "UTF-8"),
        (b'{"login": "lotse1", "password": ', "application/json", 400, "not valid JSON"),
        (b'{"login": "\\ud800", "password": "demo"}', "application/json", 400, "JSON"),
        (GOOD, "text/plain", 415, "application/json"),
        (b"login=lotse1&password=demo", "application/x-www-form-urlencoded", 415, "application/json"),
        (GOOD, "multipart/form-data; boundary=x", 415, "application/json"),
        (b'{"login": "lotse1", "password": "demo", "role": "admin"}', "application/json", 400, "role"),
        (b'{"login": "", "password": "demo"}', "application/json", 400, "login"),
        (b'{"login": 5, "password": "demo"}', "application/json", 400, "login"),
        (b"[]", "application/json", 400, "object"),
    ],
    ids=["deep-array", "deep-field", "invalid-utf8", "truncated", "lone-surrogate", "text-plain", "form", "multipart",
         "unknown-field", "empty-login", "wrong-type", "array"],
)
async def test_bad_json_bodies_get_a_sentence_and_change_nothing(client, demo, body, content_type, status, words):
    response = await post_api(client, body, content_type)
    assert response.status_code == status, response.text
    payload = response.json()
    assert payload["status"] == status
    assert words.lower() in (payload["error"] + str(payload.get("details", ""))).lower()
    assert await UserSession.count() == 0


async def test_an_oversized_body_gets_413_naming_the_limit(client, demo, settings):
    body = b'{"login": "lotse1", "password": "' + b"x" * (settings.max_body_bytes + 1) + b'"}'
    response = await post_api(client, body)
    assert response.status_code == 413
    assert str(settings.max_body_bytes) in response.json()["error"]
    assert await UserSession.count() == 0


async def test_duplicate_keys_take_the_last_value(client, demo):
    """Documented behaviour (msgspec): the last occurrence of a key wins."""
    response = await post_api(client, b'{"login": "nobody", "login": "lotse1", "password": "demo"}')
    assert response.status_code == 201


async def test_a_good_body_passes_the_checks(client, demo):
    response = await post_api(client, GOOD)
    assert response.status_code == 201
    assert response.json()["username"] == "lotse1"


async def test_invalid_utf8_in_a_form_gets_400(client, demo):
    headers = {**await csrf_headers(client), "content-type": "application/x-www-form-urlencoded", "accept-language": "en"}
    response = await client.post("/login", content=b"login=\xff\xfe&password=demo", headers=headers)
    assert response.status_code == 400
    assert "UTF-8" in response.text


async def test_a_text_plain_post_to_a_form_route_gets_415(client, demo):
    headers = {**await csrf_headers(client), "content-type": "text/plain"}
    response = await client.post("/login", content=b"login=lotse1&password=demo", headers=headers)
    assert response.status_code == 415
    assert await UserSession.count() == 0


# --- web forms: the same rules as JSON (server/security.py check_body) --------------------------

CLIENT_FORM = "languages=ar&district=Mitte&needs=&consent_on=&alias="


async def _post_client(office, alias_encoded: str):
    headers = {**await csrf_headers(office), "content-type": "application/x-www-form-urlencoded"}
    return await office.post("/clients", content=(CLIENT_FORM + alias_encoded).encode(), headers=headers)


@pytest.mark.parametrize(
    ("alias", "words"),
    [("Amal%00Haddad", "NUL"), ("Amal%FFHaddad", "UTF-8"), ("Amal%ED%A0%80Haddad", "UTF-8")],
    ids=["nul", "invalid-utf8", "lone-surrogate"],
)
async def test_a_form_with_a_nul_or_broken_utf8_is_400_and_changes_nothing(app, demo, alias, words):
    """PostgreSQL cannot store a NUL (it answered 500); a broken sequence must not become U+FFFD."""
    from server.clients.tables import Client

    before = await Client.count()
    async with signed_in(app, "koordination") as office:
        response = await _post_client(office, alias)
    assert response.status_code == 400 and words in visible_text(response.text)
    assert await Client.count() == before


async def test_a_100000_character_name_is_refused_with_a_sentence(app, demo):
    from server.clients.tables import Client

    before = await Client.count()
    async with signed_in(app, "koordination") as office:
        response = await _post_client(office, "x" * 100_000)
    assert response.status_code == 400 and "100" in visible_text(response.text)
    assert await Client.count() == before


async def test_a_name_typed_in_nfd_is_stored_in_nfc(app, demo):
    from server.clients.tables import Client

    decomposed = unicodedata.normalize("NFD", "Zoë")
    async with signed_in(app, "koordination") as office:
        response = await _post_client(office, quote(decomposed))
    assert response.status_code == 303
    assert await Client.count().where(Client.alias == "Zoë") == 1
    assert await Client.count().where(Client.alias == decomposed) == 0


async def test_markup_in_a_name_is_shown_as_text(app, demo):
    markup = '<script>alert(1)</script><b hx-get="/logout" hx-trigger="load">{{7*7}}</b>'
    async with signed_in(app, "koordination") as office:
        created = await _post_client(office, quote(markup))
        assert created.status_code == 303
        for path in ("/clients", created.headers["location"]):
            page = await office.get(path)
            assert "<script>alert" not in page.text and 'hx-get="/logout"' not in page.text, path
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "{{7*7}}" in page.text, path


@pytest.mark.parametrize(
    ("day", "start"),
    [("9999-12-31", "23:59"), ("-0001-01-01", "10:00"), ("2026-02-30", "10:00"), ("2026-03-10", "24:00"),
     ("1" * 100, "10:00")],
)
async def test_odd_dates_in_an_event_form_get_a_sentence_or_a_working_event(app, demo, day, start):
    from server.events.tables import Event

    before = await Event.count()
    async with signed_in(app, "koordination") as office:
        headers = await csrf_headers(office)
        response = await office.post("/events", data={"kind": "stammtisch", "title": "Treffen", "day": day,
                                                      "start": start, "place": "", "description": ""}, headers=headers)
        assert response.status_code in (303, 400), response.text[:300]
        if response.status_code == 400:
            assert await Event.count() == before
            return
        for path in ("/events", response.headers["location"], "/", "/dashboard"):
            assert (await office.get(path)).status_code == 200, path
    async with signed_in(app, "lotse1") as amina:
        for path in ("/events", "/", "/offline-pack"):
            assert (await amina.get(path)).status_code == 200, path


@pytest.mark.parametrize("cell", ["=cmd|' /C calc'!A0", "+cmd", "-2+3", "@SUM(A1)", "\t=cmd", "\r=cmd"])
def test_a_cell_a_spreadsheet_would_run_is_exported_as_text(cell):
    from server.reports.views import inert

    assert inert(cell) == "'" + cell
    assert inert("Amal") == "Amal" and inert(None) == ""
