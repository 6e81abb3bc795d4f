"""In a real browser on a phone-sized screen: the start page, htmx under the CSP, sign in and out."""

import pytest

pytestmark = pytest.mark.browser


def test_the_start_page_loads_htmx_under_the_csp_without_errors(phone, live_server, tmp_path):
    phone.goto(live_server + "/")
    assert phone.locator("h1").inner_text() == "Lotsenbuch"
    assert phone.evaluate("() => window.htmx && window.htmx.version") == "2.0.11"
    config = phone.evaluate("() => [htmx.config.allowEval, htmx.config.selfRequestsOnly, htmx.config.historyCacheSize]")
    assert config == [False, True, 0]
    phone.screenshot(path=str(tmp_path / "start.png"), full_page=True)
    assert phone.console_errors == []


def test_a_volunteer_signs_in_and_out(phone, live_server):
    phone.goto(live_server + "/")
    phone.get_by_role("link", name="Anmelden").click()
    phone.get_by_label("Benutzername oder E-Mail").fill("lotse1")
    phone.get_by_label("Passwort", exact=True).fill("demo")
    phone.get_by_role("button", name="Anmelden").click()
    phone.wait_for_url(live_server + "/")
    assert "Hallo, Amina Haddad" in phone.locator("main").inner_text()
    phone.get_by_role("button", name="Abmelden").click()
    phone.get_by_role("link", name="Anmelden").wait_for()  # the app wipes the phone, then signs out
    assert not [c for c in phone.context.cookies() if c["name"] == "lotsenbuch-sid"]
    assert phone.console_errors == []


def test_a_wrong_password_shows_a_sentence_tied_to_the_field(phone, live_server):
    phone.goto(live_server + "/login")
    phone.get_by_label("Benutzername oder E-Mail").fill("lotse1")
    phone.get_by_label("Passwort", exact=True).fill("falsch")
    phone.get_by_role("button", name="Anmelden").click()
    alert = phone.get_by_role("alert")
    assert alert.inner_text() == "Benutzername oder Passwort ist falsch."
    assert phone.get_by_label("Benutzername oder E-Mail").get_attribute("aria-describedby") == "login-error"


def test_touch_targets_are_at_least_44_px(phone, live_server):
    """A checkbox counts with its label, which toggles it too."""
    phone.goto(live_server + "/login")
    for control in phone.locator("button, input:not([type=hidden]), a.button").all():
        if control.get_attribute("type") == "checkbox":
            control = phone.locator(f"label[for='{control.get_attribute('id')}']")
        box = control.bounding_box()
        assert box and box["height"] >= 44, control.evaluate("e => e.outerHTML")


def test_pages_fit_a_phone_screen_without_sideways_scrolling(phone, live_server):
    phone.goto(live_server + "/login")
    phone.get_by_label("Benutzername oder E-Mail").fill("koordination")
    phone.get_by_label("Passwort", exact=True).fill("demo")
    phone.get_by_role("button", name="Anmelden").click()
    phone.wait_for_url(live_server + "/")
    for path in ("/", "/volunteers", "/conflicts", "/profile", "/devices", "/requests", "/requests/new", "/clients", "/clients/new",
                 "/review", "/assignments", "/messages", "/events", "/events/new"):
        phone.goto(live_server + path)
        overflow = phone.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is {overflow}px too wide"
