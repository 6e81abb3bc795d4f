"""In a real browser: a coordinator takes a request to an offer; a volunteer's phone accepts it and
writes the visit log, which reaches the coordinator's review."""

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
    phone.wait_for_selector("html[data-app-ready]", state="attached")
    offer = phone.locator(".card", has_text="Sozialamt Musterstadt, Raum 12")
    offer.get_by_role("button", name="Annehmen").click()  # kept on the phone, then sent by the sync
    offer.get_by_text("angenommen", exact=True).wait_for(timeout=15000)
    phone.get_by_role("link", name="Einsätze").click()
    phone.locator(".card", has_text="Sozialamt Musterstadt, Raum 12").get_by_role("link").click()
    phone.get_by_role("link", name="Begleitungsprotokoll schreiben").click()
    phone.wait_for_selector("html[data-app-ready]", state="attached")
    assert phone.get_by_label("Ort", exact=True).input_value() == "Sozialamt Musterstadt, Raum 12"
    phone.get_by_label("Sozialamt").check()
    phone.get_by_label("Leistungen").check()
    phone.get_by_label("Ergebnis").fill("Antrag auf Wohngeld gestellt, Bescheid in vier Wochen.")
    phone.get_by_role("button", name="Zur Prüfung einreichen").click()
    phone.wait_for_url("**/records")
    phone.locator("[data-record-list] li", has_text="Sozialamt Musterstadt, Raum 12").and_(
        phone.locator("[data-state=synced]")).wait_for(timeout=15000)
    assert phone.console_errors == []

    desk.reload()
    assert "Amina Haddad begleitet." in desk.locator("main").inner_text()
    desk.goto(desk.url.split("/requests")[0] + "/review")
    assert "Antrag auf Wohngeld gestellt" in desk.locator("main").inner_text()
    desk.context.close()
