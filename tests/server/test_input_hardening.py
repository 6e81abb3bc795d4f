"""Bad input gets a clear 4xx with a sentence and changes nothing; never a 500."""

import pytest

from server.accounts.tables import UserSession
from tests.conftest import csrf_headers

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
