"""One mapping of errors: a page for browsers, a fragment for htmx, JSON with details for /api/."""

from litestar import Litestar, get

from server.errors import EXCEPTION_HANDLERS, NotFound
from server.templating import template_config
from tests.conftest import visible_text


async def test_an_unknown_page_gets_a_german_404_page(client):
    response = await client.get("/gibt-es-nicht")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text
    assert "Diese Seite gibt es nicht" in visible_text(response.text)


async def test_the_browser_language_is_followed(client):
    response = await client.get("/gibt-es-nicht", headers={"accept-language": "en-GB,en;q=0.9,de;q=0.5"})
    assert '<html lang="en"' in response.text
    assert "This page does not exist" in response.text


async def test_an_htmx_request_gets_a_fragment(client):
    response = await client.get("/gibt-es-nicht", headers={"hx-request": "true"})
    assert response.status_code == 404
    assert "<html" not in response.text
    assert 'role="alert"' in response.text


async def test_api_errors_are_json_with_a_sentence(client):
    response = await client.get("/api/me")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"status": 401, "error": "Bitte melden Sie sich an, um fortzufahren."}


async def test_a_wrong_method_gets_405_with_a_sentence(client):
    response = await client.get("/logout")
    assert response.status_code == 405
    assert "Diese Adresse nimmt diese Art von Anfrage nicht an" in response.text


def _tiny_app() -> Litestar:
    @get("/boom", opt={"access": "public"})
    async def boom() -> str:
        raise RuntimeError("secret internal detail")

    @get("/api/gone", opt={"access": "public"})
    async def gone() -> str:
        raise NotFound()

    return Litestar([boom, gone], exception_handlers=EXCEPTION_HANDLERS, template_config=template_config())


async def test_an_unexpected_error_shows_a_sentence_and_no_internals():
    import httpx

    transport = httpx.ASGITransport(app=_tiny_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.get("/boom")
        assert response.status_code == 500
        assert "secret internal detail" not in response.text
        assert "Bei uns ist etwas schiefgegangen" in response.text
        api = await http.get("/api/gone")
        assert api.status_code == 404 and api.json()["error"].startswith("Diese Seite gibt es nicht")
