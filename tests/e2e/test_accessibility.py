"""axe-core in Chromium on every main page of volunteers and coordinators, in German and in
Arabic (right to left): no serious or critical violation of WCAG 2.2 A/AA.

The module runs its own demo server, because it switches the demo people's UI language.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import PHONE, running_server

pytestmark = pytest.mark.browser

WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]}}
BLOCKING = {"serious", "critical"}
ANONYMOUS_PAGES = ["/", "/login", "/help/{organisation}"]
VOLUNTEER_PAGES = [
    "/", "/assignments", "/assignments/{assignment}", "/records", "/visits/form", "/notes/form", "/offers", "/inbox",
    "/events", "/statement", "/conflicts", "/profile", "/devices", "/alerts",
]
COORDINATOR_PAGES = [
    "/dashboard", "/requests", "/requests/new", "/requests/{request}", "/review", "/clients", "/clients/new",
    "/volunteers", "/volunteers/new", "/volunteers/{volunteer}", "/messages", "/events", "/events/new",
    "/events/{event}", "/reports", "/conflicts", "/profile", "/devices", "/alerts",
]
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("a11y")) as base:
        yield base


@pytest.fixture(scope="module")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


def _blocking(axe, page) -> list[str]:
    results = axe.run(page, options=WCAG).response
    return [
        f"{page.url}: {violation['id']} ({violation['impact']}): {violation['help']} — "
        + "; ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
        for violation in results["violations"] if violation["impact"] in BLOCKING
    ]


def _sign_in(page, base: str, login: str) -> None:
    page.goto(base + "/login")
    page.locator("#login").fill(login)
    page.locator("#password").fill("demo")
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(base + "/")


def _set_language(page, base: str, code: str) -> None:
    page.goto(base + "/profile")
    page.locator("#ui_language").select_option(code)
    page.locator("#profile-form button[type=submit]").click()
    page.wait_for_function("code => document.documentElement.lang === code", arg=code)  # the page reloads in it


def _first_id(page, base: str, listing: str, prefix: str) -> str:
    page.goto(base + listing)
    for href in page.locator(f"a[href^='{prefix}/']").evaluate_all("links => links.map(a => a.getAttribute('href'))"):
        if match := re.fullmatch(re.escape(prefix) + "/(" + UUID + ")", href):
            return match.group(1)
    raise AssertionError(f"no link to {prefix}/<id> on {listing}")


def _visit_all(axe, page, base: str, paths: list[str], ids: dict[str, str], locale: str) -> list[str]:
    found = []
    for path in paths:
        response = page.goto(base + path.format(**ids))
        assert response and response.status == 200, path
        assert page.locator("html").get_attribute("lang") == locale, path
        assert page.locator("html").get_attribute("dir") == ("rtl" if locale == "ar" else "ltr"), path
        found += _blocking(axe, page)
    return found


@pytest.mark.parametrize("locale", ["de", "ar"])
def test_pages_without_an_account_follow_the_browser_and_have_no_serious_violation(browser, server, axe, locale):
    context = browser.new_context(**PHONE, locale="de-DE")
    page = context.new_page()
    _sign_in(page, server, "koordination")
    ids = {"organisation": page.request.get(server + "/api/me").json()["organisation_id"]}
    context.close()
    context = browser.new_context(**PHONE, locale=locale)  # Accept-Language chooses the language
    try:
        assert _visit_all(axe, context.new_page(), server, ANONYMOUS_PAGES, ids, locale) == []
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["de", "ar"])
def test_volunteer_pages_have_no_serious_violation(browser, server, axe, locale):
    context = browser.new_context(**PHONE, locale="de-DE")
    page = context.new_page()
    _sign_in(page, server, "lotse1")
    _set_language(page, server, locale)
    ids = {"assignment": _first_id(page, server, "/assignments", "/assignments")}
    try:
        assert _visit_all(axe, page, server, VOLUNTEER_PAGES, ids, locale) == []
    finally:
        _set_language(page, server, "de")
        context.close()


@pytest.mark.parametrize("locale", ["de", "ar"])
def test_coordinator_pages_have_no_serious_violation(browser, server, axe, locale):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="de-DE")
    page = context.new_page()
    _sign_in(page, server, "koordination")
    _set_language(page, server, locale)
    ids = {
        "request": _first_id(page, server, "/requests", "/requests"),
        "volunteer": _first_id(page, server, "/volunteers", "/volunteers"),
        "event": _first_id(page, server, "/events", "/events"),
    }
    try:
        assert _visit_all(axe, page, server, COORDINATOR_PAGES, ids, locale) == []
    finally:
        _set_language(page, server, "de")
        context.close()


def test_the_check_itself_sees_a_serious_violation(browser, axe):
    """Guards the guard: an unlabelled field and low contrast must be reported."""
    context = browser.new_context()
    page = context.new_page()
    page.set_content('<html lang="de"><body><main><input id="x"><p style="color:#bbb;background:#fff">Text</p></main></body></html>')
    found = _blocking(axe, page)
    context.close()
    assert any(" label " in f for f in found) and any("color-contrast" in f for f in found), found
