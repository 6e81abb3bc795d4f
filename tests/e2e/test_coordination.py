"""In a real browser: a coordinator takes a request to an offer; a volunteer's phone accepts it."""

import pytest

pytestmark = pytest.mark.browser


def _sign_in(page, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("Benutzername oder E-Mail").fill(username)
    page.get_by_label("Passwort", exact=True).fill("demo")
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(base + "/")


def test_a_request_goes_from_the_coordinator_to_an_accepted_assignment(browser, phone, live_server):
    desk = browser.new_context(locale="de-DE").new_page()
    _sign_in(desk, live_server, "koordination")
    desk.get_by_role("link", name="Anfragen").click()
    desk.get_by_role("link", name="Neue Anfrage").click()
    desk.get_by_label("Klient*in", exact=True).select_option(label="Fatima")
    desk.get_by_label("Benötigte Sprache").select_option("ar")
    desk.get_by_label("Behördengang").check()
    desk.get_by_label("Ort", exact=True).fill("Sozialamt Musterstadt, Raum 12")
    desk.get_by_role("button", name="Anfrage anlegen").click()
    desk.wait_for_url("**/requests/*")
    candidates = desk.locator(".candidates li")
    assert "Amina Haddad" in candidates.first.inner_text()
    assert "spricht Arabisch (Muttersprache)" in candidates.first.inner_text()
    candidates.first.get_by_role("checkbox").check()
    desk.get_by_role("button", name="Den ausgewählten Lots*innen anbieten").click()
    desk.wait_for_load_state()
    assert "wartet auf Antwort" in desk.locator("main").inner_text()

    _sign_in(phone, live_server, "lotse1")
    phone.get_by_role("link", name="Angebote").click()
    offer = phone.locator(".card", has_text="Sozialamt Musterstadt, Raum 12")
    offer.get_by_role("button", name="Annehmen").click()
    assert "Der Einsatz gehört Ihnen" in phone.get_by_role("status").inner_text()
    phone.get_by_role("link", name="Einsätze").click()
    assert "Sozialamt Musterstadt, Raum 12" in phone.locator("main").inner_text()
    assert phone.console_errors == []

    desk.reload()
    assert "Amina Haddad begleitet." in desk.locator("main").inner_text()
    desk.context.close()
