"""The Wegweiser in a real browser: an entry a coordinator adds reaches the phone while it is
online, and is found there by the offline search, with its call and map links; the visit form
offline offers it as the place, shows the advice centres that fit a need for professional help,
and links the how-tos of its topics into the guide."""

from __future__ import annotations

import uuid
from urllib.parse import quote

import pytest

from tests.e2e.test_offline_app import CACHED_PAGES, coordinator, ready_offline, sign_in, until

pytestmark = pytest.mark.browser


def _add_entry(desk, base: str, name: str) -> None:
    desk.goto(base + "/directory/new")
    desk.get_by_label("Name", exact=True).fill(name)
    desk.get_by_label("Kategorie", exact=True).select_option("beratungsstelle")
    desk.get_by_label("Adresse", exact=True).fill("Lindenhof 3, 31234 Musterstadt")
    desk.get_by_label("Telefon", exact=True).fill("0123 4599-77")
    desk.get_by_label("Hinweise für Lots*innen", exact=True).fill("Mietrecht und Nebenkosten, donnerstags ohne Termin.")
    desk.get_by_label("Rechtsberatung").check()
    desk.get_by_role("button", name="Hinzufügen").click()
    desk.wait_for_url("**/directory/*")


def test_an_entry_added_by_coordination_is_found_by_the_offline_search(browser, phone, live_server):
    marker = uuid.uuid4().hex[:6]
    name = f"Mieterverein Lindenhöfe {marker}"
    desk = coordinator(browser, live_server)
    _add_entry(desk, live_server, name)
    desk.context.close()

    sign_in(phone, live_server, "lotse1")
    ready_offline(phone)
    until(phone, f"{CACHED_PAGES}.then((paths) => paths.includes('/guide'))")
    phone.goto(live_server + "/guide")
    phone.wait_for_selector("html[data-app-ready]", state="attached")
    until(phone, f"document.querySelector('[data-entry-list]').textContent.includes('{marker}')")  # synced while online

    phone.context.set_offline(True)
    phone.goto(live_server + "/guide")  # from the offline pack
    phone.wait_for_selector("html[data-app-ready]", state="attached")
    phone.get_by_label("Suchen").fill(f"LINDENHOFE {marker}")  # case and accents aside
    entries = phone.locator("[data-entry-list] > li")
    until(phone, "document.querySelectorAll('[data-entry-list] > li').length === 1")
    found = entries.first
    assert name in found.inner_text() and "Beratungsstelle" in found.inner_text()
    found.locator("summary").click()
    assert "Mietrecht und Nebenkosten" in found.inner_text()
    assert found.get_by_role("link", name="Anrufen").get_attribute("href") == "tel:0123459977"
    assert found.get_by_role("link", name="In der Karte öffnen").get_attribute("href") == (
        "https://www.openstreetmap.org/search?query=" + quote("Lindenhof 3, 31234 Musterstadt", safe=""))
    phone.get_by_label("Suchen").fill("Kita")  # the demo's entry and how-to, not the new one
    until(phone, "document.querySelectorAll('[data-entry-list] > li').length >= 1")
    assert marker not in phone.locator("[data-entry-list]").inner_text()
    assert "Anmeldung in der Kita" in phone.locator("[data-howto-list]").inner_text()
    phone.get_by_label("Suchen").fill("gibt es nicht xyz")
    phone.locator("[data-no-match]").wait_for()

    phone.goto(live_server + "/visits/form")  # still offline: the place from the directory
    phone.wait_for_selector("html[data-app-ready]", state="attached")
    phone.get_by_label("Eintrag im Wegweiser").select_option(label=f"{name} · Lindenhof 3, 31234 Musterstadt")
    assert phone.get_by_label("Ort", exact=True).input_value() == name
    assert phone.get_by_label("Beratungsstelle").is_checked()
    phone.get_by_label("Rechtsberatung").check()
    centres = phone.locator("[data-help-centres]")
    centres.wait_for()
    assert name in centres.inner_text() and "Migrationsberatung für Erwachsene (Caritas)" in centres.inner_text()
    assert "Kita Sonnenblume" not in centres.inner_text()

    hints = phone.locator("[data-howto-hints]")
    assert hints.is_hidden()  # no how-to is about advice centres
    phone.get_by_label("Leistungen").check()  # the topic the Bürgergeld how-to is linked to
    hints.get_by_role("link", name="Bürgergeld-Antrag").click()
    phone.wait_for_selector("html[data-app-ready]", state="attached")  # the guide, offline, searching for it
    assert phone.get_by_label("Suchen").input_value() == "Bürgergeld-Antrag"
    until(phone, "document.querySelectorAll('[data-howto-list] > li').length === 1")
    howto = phone.locator("[data-howto-list] > li").first
    howto.locator("summary").first.click()
    assert "Kontoauszüge der letzten 3 Monate" in howto.inner_text() and "Jobcenter Musterstadt Mitte" in howto.inner_text()
