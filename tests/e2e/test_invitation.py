"""A coordinator adds a volunteer and hands over the link; the phone opens it, sets a password and
lands on the volunteer's start page."""

import pytest

pytestmark = pytest.mark.browser


def test_an_invitation_link_leads_a_phone_to_the_start_page(browser, phone, live_server):
    office = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    desk = office.new_page()
    desk.goto(live_server + "/login")
    desk.get_by_label("Benutzername oder E-Mail").fill("koordination")
    desk.get_by_label("Passwort", exact=True).fill("demo")
    desk.get_by_role("button", name="Anmelden").click()
    desk.get_by_role("link", name="Lotsinnen und Lotsen").first.click()
    desk.get_by_role("link", name="Lotsin oder Lotsen hinzufügen").click()
    desk.get_by_label("Benutzername").fill("mariam")
    desk.get_by_label("Angezeigter Name").fill("Mariam Yousef")
    desk.get_by_label("Sprache 1", exact=True).select_option("fa")
    desk.get_by_label("Stadtteile (durch Kommas getrennt)").fill("Südstadt")
    desk.get_by_role("button", name="Hinzufügen").click()
    desk.get_by_role("button", name="Einladungslink erstellen").click()
    assert desk.get_by_role("img", name="QR-Code des Links").is_visible()
    link = desk.get_by_label("Link").input_value()
    office.close()

    phone.goto(link)
    assert "Willkommen bei Lotsenbuch, Mariam Yousef" in phone.locator("h1").inner_text()
    phone.get_by_label("Passwort", exact=True).fill("mein sicheres Passwort")
    phone.get_by_label("Passwort wiederholen").fill("mein sicheres Passwort")
    phone.get_by_role("button", name="Passwort speichern und weiter").click()
    phone.wait_for_url(live_server + "/welcome")
    assert phone.get_by_role("heading", name="iPhone (Safari)").is_visible()
    phone.get_by_role("link", name="Zur Startseite").click()
    phone.wait_for_url(live_server + "/")
    assert "Hallo, Mariam Yousef" in phone.locator("main").inner_text()
    cookie = next(c for c in phone.context.cookies() if c["name"] == "lotsenbuch-sid")
    assert cookie["httpOnly"] and cookie["expires"] > 0  # a device session that survives a restart
    assert phone.console_errors == []
