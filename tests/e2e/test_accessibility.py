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
OUTSIDE = """() => [...document.querySelectorAll("body *")].filter(e => {
  const box = e.getBoundingClientRect();
  return box.width && (box.left < -1 || box.right > document.documentElement.clientWidth + 1);
}).slice(0, 3).map(e => e.outerHTML.slice(0, 100))"""  # what sticks out, for the failure message
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


def test_after_an_htmx_save_focus_lands_on_the_answer_not_the_page_start(browser, server):
    """Keyboard only: the field in error gets focus (its message is read with it), then the notice."""
    context = browser.new_context(**PHONE, locale="de-DE")
    page = context.new_page()
    _sign_in(page, server, "lotse2")
    page.goto(server + "/profile")
    page.locator("html[data-app-ready], body").first.wait_for()
    page.locator("#districts").fill("x" * 61)
    page.locator("#districts").press("Enter")  # submits the form through htmx
    page.locator("#districts[aria-invalid='true']").wait_for()
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'districts'")
    assert page.evaluate("() => document.activeElement.getAttribute('aria-describedby')") == "districts-error"
    page.keyboard.press("Control+A")
    page.keyboard.type("Nordstadt")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement && document.activeElement.getAttribute('role') === 'status'")
    assert page.evaluate("() => document.activeElement.textContent") == "Ihr Profil wurde gespeichert."
    context.close()


@pytest.mark.parametrize(("locale", "brand_side"), [("de", "left"), ("ar", "right")])
def test_the_layout_runs_in_the_languages_direction(browser, server, locale, brand_side):
    context = browser.new_context(**PHONE, locale=locale)
    page = context.new_page()
    page.goto(server + "/login")
    box = page.locator(".brand").bounding_box()
    width = page.viewport_size["width"]
    assert (box["x"] + box["width"] / 2 > width / 2) == (brand_side == "right")
    # A user name stays left to right inside an Arabic page; typed text takes its own direction.
    assert page.locator("#login").evaluate("e => getComputedStyle(e).direction") == "ltr"
    assert page.locator("#password").evaluate("e => getComputedStyle(e).direction") == "ltr"
    context.close()


def test_report_charts_are_drawn_from_the_right_in_arabic(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="de-DE")
    page = context.new_page()
    _sign_in(page, server, "koordination")
    try:
        for locale, edge in (("de", "x"), ("ar", "x + width")):
            _set_language(page, server, locale)
            page.goto(server + "/reports?start=2000-01-01&end=2002-12-31")
            page.goto(server + "/reports")
            bars = page.locator(".chart-bar").evaluate_all(
                "bars => bars.map(b => [Number(b.getAttribute('x')), Number(b.getAttribute('width'))])")
            assert bars, "the demo quarter has accompaniments to draw"
            anchored = {round(x if edge == "x" else x + width) for x, width in bars}
            assert anchored == ({200} if locale == "de" else {280}), bars
    finally:
        _set_language(page, server, "de")
        context.close()


@pytest.mark.parametrize("locale", ["de", "ar"])
@pytest.mark.parametrize("who", ["lotse1", "koordination"])
def test_text_at_200_percent_and_a_320_px_screen_lose_nothing_sideways(browser, server, locale, who):
    """WCAG 1.4.4: text at 200 % (a 1280 px window zoomed to 200 % is 640 px wide); WCAG 1.4.10:
    320 px wide. Either way the page scrolls only downwards; a wide data table scrolls by itself."""
    context = browser.new_context(viewport={"width": 640, "height": 800}, locale="de-DE")
    page = context.new_page()
    _sign_in(page, server, who)
    _set_language(page, server, locale)
    if who == "lotse1":
        paths, ids = VOLUNTEER_PAGES, {"assignment": _first_id(page, server, "/assignments", "/assignments")}
    else:
        paths, ids = COORDINATOR_PAGES, {
            "request": _first_id(page, server, "/requests", "/requests"),
            "volunteer": _first_id(page, server, "/volunteers", "/volunteers"),
            "event": _first_id(page, server, "/events", "/events"),
        }
    too_wide = []
    try:
        for width, text_size in ((640, "200%"), (320, "100%")):
            page.set_viewport_size({"width": width, "height": 800})
            for path in paths:
                page.goto(server + path.format(**ids))
                page.evaluate("size => { document.documentElement.style.fontSize = size; }", text_size)  # CSSOM: the CSP allows it
                overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
                if overflow > 1:
                    too_wide.append((width, text_size, path, overflow, page.evaluate("() => document.documentElement.lang"), page.evaluate(OUTSIDE)))
    finally:
        _set_language(page, server, "de")
        context.close()
    assert too_wide == [], too_wide


def test_touch_targets_on_the_volunteers_pages_are_at_least_44_px(browser, server):
    """Buttons, links styled as buttons, fields and the navigation; a checkbox counts with its label."""
    context = browser.new_context(**PHONE, locale="de-DE")
    page = context.new_page()
    _sign_in(page, server, "lotse1")
    ids = {"assignment": _first_id(page, server, "/assignments", "/assignments")}
    small = []
    for path in VOLUNTEER_PAGES:
        page.goto(server + path.format(**ids))
        small += page.evaluate("""path => {
          const targets = document.querySelectorAll(
            "button, a.button, nav a, input:not([type=hidden]), select, textarea, summary");
          const out = [];
          for (let element of targets) {
            if (element.closest("[hidden]") || element.classList.contains("visually-hidden")) continue;
            if (element.matches("input[type=checkbox], input[type=radio]")) {
              const label = element.id && document.querySelector(`label[for="${element.id}"]`);
              const cell = element.closest("td, .chip, .check");
              element = (label && !label.classList.contains("visually-hidden")) ? label : (cell || element);
            }
            const box = element.getBoundingClientRect();
            if (box.width === 0 && box.height === 0) continue;  // not shown
            if (box.height < 44 || box.width < 44) out.push(path + " " + element.outerHTML.slice(0, 120));
          }
          return out;
        }""", path)
    context.close()
    assert small == [], "\n".join(small)
