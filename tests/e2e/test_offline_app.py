"""The volunteer's app in a real browser: installable, works offline, syncs by itself, forgets
everything at logout and when its device is revoked (issue: the offline PWA)."""

from __future__ import annotations

import json
import time
import uuid

import httpx
import pytest

from tests.e2e.conftest import CHROMIUM_ARGS, PHONE, _chromium_or_skip

pytestmark = pytest.mark.browser


def sign_in(page, base: str, username: str, keep: bool = True) -> None:
    page.goto(base + "/login")
    page.get_by_label("Benutzername oder E-Mail").fill(username)
    page.get_by_label("Passwort", exact=True).fill("demo")
    if keep:
        page.get_by_label("Das ist mein eigenes Handy: angemeldet bleiben").check()
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(base + "/")


def until(page, script: str, timeout: float = 15.0):
    """Poll a JavaScript expression (page.evaluate is not subject to the CSP) until it is truthy."""
    from playwright.sync_api import Error

    deadline = time.monotonic() + timeout
    while True:
        try:
            value = page.evaluate(script)
        except Exception as error:  # the page navigated while the script ran: ask the next page
            if "Execution context was destroyed" not in str(error):
                raise
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {script}")
        time.sleep(0.1)


CACHED_PAGES = "caches.keys().then(async (names) => { const n = names.find((x) => x.startsWith('pages-')); " \
    "if (!n) return []; return (await (await caches.open(n)).keys()).map((r) => new URL(r.url).pathname); })"


def ready_offline(page) -> None:
    """Signed in on a phone: the worker controls the page and the offline pack is stored."""
    page.wait_for_selector("html[data-app-ready]", state="attached")
    until(page, "navigator.serviceWorker.controller !== null")
    until(page, f"{CACHED_PAGES}.then((paths) => paths.includes('/visits/form') && paths.includes('/records'))")


def states(page) -> list[str]:
    return page.locator("[data-record-list] li").evaluate_all("(items) => items.map((i) => i.dataset.state)")


def item(page, text: str):
    return page.locator("[data-record-list] li", has_text=text)


def coordinator(browser, base: str):
    desk = browser.new_context(locale="de-DE").new_page()
    sign_in(desk, base, "koordination", keep=False)
    return desk


def test_the_app_is_installable_controlled_by_its_worker_and_its_icons_load(live_server, tmp_path):
    executable = _chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # A persistent profile: a fresh incognito-like context always answers "in-incognito".
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=executable, args=CHROMIUM_ARGS, headless=True, locale="de-DE", **PHONE)
        page = context.pages[0] if context.pages else context.new_page()
        sign_in(page, live_server, "lotse1")
        ready_offline(page)
        page.reload()
        cdp = context.new_cdp_session(page)
        assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
        manifest = cdp.send("Page.getAppManifest")
        assert manifest["errors"] == []
        data = json.loads(manifest["data"])
        assert data["display"] == "standalone" and data["lang"] == "de"
        purposes = {(icon["sizes"], icon.get("purpose", "any")) for icon in data["icons"]}
        assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= purposes
        for icon in data["icons"]:
            loaded = page.evaluate(
                "(src) => new Promise((ok) => { const i = new Image(); i.onload = () => ok(i.naturalWidth); "
                "i.onerror = () => ok(0); i.src = src; })", icon["src"])
            assert loaded > 0, icon["src"]
        assert page.evaluate("navigator.serviceWorker.controller.scriptURL") == live_server + "/sw.js"
        context.close()


def test_offline_entries_survive_a_reload_and_reach_the_server_by_themselves(browser, phone, live_server):
    marker = uuid.uuid4().hex[:8]
    sign_in(phone, live_server, "lotse1")
    ready_offline(phone)
    phone.locator("[aria-labelledby=upcoming-heading] .card a").first.click()
    assignment_url = phone.url

    phone.context.set_offline(True)
    phone.get_by_role("link", name="Begleitungsprotokoll schreiben").click()
    phone.wait_for_selector("html[data-app-ready]", state="attached")
    assert "assignment_id=" in phone.url and phone.get_by_label("Datum").input_value() != ""
    phone.get_by_label("Sozialamt").check()
    phone.get_by_label("Leistungen").check()
    phone.get_by_label("Ergebnis").fill(f"Antrag abgegeben {marker}.")
    phone.get_by_role("button", name="Zur Prüfung einreichen").click()
    phone.wait_for_url("**/records")
    assert "Auf diesem Handy gespeichert" in phone.locator("[data-flash]:not([hidden])").inner_text()

    phone.goto(assignment_url)  # from the offline pack
    phone.get_by_role("link", name="Notiz hinzufügen").click()
    phone.get_by_label("Text").fill(f"Notiz unterwegs {marker}")
    phone.get_by_role("button", name="Speichern").click()
    phone.wait_for_url("**/records")
    phone.reload()
    phone.wait_for_selector("html[data-app-ready]", state="attached")
    assert item(phone, f"Notiz unterwegs {marker}").get_attribute("data-state") == "pending"
    assert states(phone).count("pending") == 2  # the note and the visit log
    phone.goto(live_server + "/")
    phone.wait_for_selector("html[data-app-ready]", state="attached")
    assert phone.locator("[data-waiting]").get_attribute("data-count") == "2"

    phone.goto(live_server + "/records")
    phone.wait_for_selector("html[data-app-ready]", state="attached")
    phone.context.set_offline(False)  # and nothing else: the app notices and sends by itself
    until(phone, "document.querySelectorAll('[data-record-list] [data-state=pending]').length === 0")
    assert item(phone, f"Notiz unterwegs {marker}").get_attribute("data-state") == "synced"

    desk = coordinator(browser, live_server)
    desk.goto(live_server + "/review")
    assert f"Antrag abgegeben {marker}." in desk.locator("main").inner_text()
    desk.context.close()


def _write_submitted_log(phone, base: str, place: str, outcome: str) -> None:
    phone.goto(base + "/visits/form")
    phone.wait_for_selector("html[data-app-ready]", state="attached")
    phone.get_by_label("Jobcenter").check()
    phone.get_by_label("Ort", exact=True).fill(place)
    phone.get_by_label("Ergebnis").fill(outcome)
    phone.get_by_role("button", name="Zur Prüfung einreichen").click()
    phone.wait_for_url("**/records")
    until(phone, "document.querySelectorAll('[data-record-list] [data-state=pending]').length === 0")


def test_a_conflict_between_coordinator_and_phone_is_seen_by_both_and_resolved_on_the_phone(browser, phone, live_server):
    marker = uuid.uuid4().hex[:8]
    sign_in(phone, live_server, "lotse1")
    ready_offline(phone)
    _write_submitted_log(phone, live_server, f"Jobcenter {marker}", f"Termin {marker} verschoben.")

    desk = coordinator(browser, live_server)
    desk.goto(live_server + "/review")
    desk.locator(".card", has_text=marker).get_by_role("link", name="Text korrigieren").click()

    phone.context.set_offline(True)
    item(phone, marker).get_by_role("link").click()  # drawn from the phone's own copy
    phone.wait_for_selector("html[data-app-ready]", state="attached")
    assert phone.get_by_label("Ergebnis").input_value() == f"Termin {marker} verschoben."
    phone.get_by_label("Ergebnis").fill(f"Termin {marker} bestätigt.")
    phone.get_by_role("button", name="Zur Prüfung einreichen").click()
    phone.wait_for_url("**/records")

    desk.get_by_label("Ergebnis").fill(f"Termin {marker} abgesagt.")
    desk.get_by_role("button", name="Speichern").click()
    desk.wait_for_url("**/edit")

    phone.context.set_offline(False)
    conflict = phone.locator("[data-conflict-list] li", has_text=f"Termin {marker} bestätigt.")
    conflict.wait_for(timeout=15000)
    assert f"Termin {marker} abgesagt." in conflict.inner_text()
    desk.goto(live_server + "/conflicts/" + conflict.get_attribute("data-conflict"))
    seen = desk.locator("main").inner_text()
    assert f"Termin {marker} bestätigt." in seen and f"Termin {marker} abgesagt." in seen

    conflict.get_by_role("button", name="Zusammengeführte Fassung schreiben").click()
    conflict.get_by_label("Zusammengeführte Fassung").fill(f"Termin {marker} abgesagt, neuer Termin bestätigt.")
    conflict.get_by_role("button", name="Zusammengeführte Fassung speichern").click()
    conflict.wait_for(state="detached", timeout=15000)
    until(phone, "document.querySelectorAll('[data-record-list] [data-state=pending]').length === 0")

    desk.goto(live_server + "/review")
    assert f"Termin {marker} abgesagt, neuer Termin bestätigt." in desk.locator("main").inner_text()
    desk.context.close()


def test_logout_names_unsent_entries_then_wipes_and_the_next_user_sees_nothing_of_the_first(browser, phone, live_server):
    marker = uuid.uuid4().hex[:8]
    sign_in(phone, live_server, "lotse1")
    ready_offline(phone)
    first_user = phone.evaluate("JSON.parse(document.getElementById('lotsenbuch-session').textContent).user_id")
    phone.context.set_offline(True)
    phone.goto(live_server + "/notes/form")
    phone.get_by_label("Text").fill(f"Nicht gesendet {marker}")
    phone.get_by_role("button", name="Speichern").click()
    phone.wait_for_url("**/records")
    phone.wait_for_selector("html[data-app-ready]", state="attached")

    asked = []
    phone.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    phone.get_by_role("button", name="Abmelden").click()
    for _ in range(100):
        if asked:
            break
        phone.wait_for_timeout(100)
    assert asked and f"Nicht gesendet {marker}" in asked[0]
    assert item(phone, f"Nicht gesendet {marker}").get_attribute("data-state") == "pending"  # kept: the answer was no

    phone.once("dialog", lambda dialog: dialog.accept())
    phone.get_by_role("button", name="Abmelden").click()
    phone.get_by_text("Sie sind abgemeldet").wait_for()  # offline: wiped on the phone at once
    assert phone.evaluate("caches.keys()") == []
    assert [d for d in phone.evaluate("indexedDB.databases()") if d["name"].startswith("lotsenbuch")] == []
    assert phone.evaluate("navigator.serviceWorker.getRegistrations().then((r) => r.length)") == 0

    phone.context.set_offline(False)
    phone.goto(live_server + "/")  # the server now hears of the logout
    phone.wait_for_url(live_server + "/")
    until(phone, "!document.getElementById('lotsenbuch-session')")
    sign_in(phone, live_server, "koordination", keep=False)
    assert first_user not in json.dumps(phone.evaluate("caches.keys()"))
    phone.context.set_offline(True)
    try:
        phone.goto(live_server + "/records")
    except Exception:  # without a worker: the browser's own offline error
        pass
    phone.wait_for_url(lambda url: url.endswith("/records") or url.startswith("chrome-error:"))
    phone.wait_for_load_state()
    shown = phone.evaluate("document.documentElement.innerText")
    assert f"Nicht gesendet {marker}" not in shown and "Amina" not in shown
    assert "Meine Einträge" not in phone.title()


def test_a_revoked_device_wipes_itself_at_its_next_contact(browser, phone, live_server):
    sign_in(phone, live_server, "lotse1")
    ready_offline(phone)
    device_id = phone.evaluate("JSON.parse(document.getElementById('lotsenbuch-session').textContent).device_id")
    with httpx.Client(base_url=live_server) as other:  # the volunteer, on another device, revokes this one
        other.get("/login")
        headers = {"x-csrftoken": other.cookies.get("lotsenbuch-csrf")}
        other.post("/api/session", json={"login": "lotse1", "password": "demo"}, headers=headers).raise_for_status()
        assert other.get("/api/me").json()["csrf_token"] == headers["x-csrftoken"]  # what a cached page asks for
        answer = other.post(f"/devices/{device_id}/revoke", headers=headers, follow_redirects=False)
        assert answer.status_code == 303, answer.text
    phone.get_by_role("button", name="Jetzt synchronisieren").click()
    phone.wait_for_url("**/login**", timeout=15000)
    assert phone.evaluate("caches.keys()") == []
    assert [d for d in phone.evaluate("indexedDB.databases()") if d["name"].startswith("lotsenbuch")] == []
    assert phone.evaluate("navigator.serviceWorker.getRegistrations().then((r) => r.length)") == 0


def test_a_new_worker_version_keeps_the_outbox_and_sends_each_entry_once(phone, live_server):
    marker = uuid.uuid4().hex[:8]
    context = phone.context
    sign_in(phone, live_server, "lotse1")
    ready_offline(phone)
    context.route("**/api/sync", lambda route: route.abort("internetdisconnected"))  # nothing leaves yet
    for number in (1, 2):
        phone.goto(live_server + "/notes/form")
        phone.wait_for_selector("html[data-app-ready]", state="attached")
        phone.get_by_label("Text").fill(f"Vor dem Update {number} {marker}")
        phone.get_by_role("button", name="Speichern").click()
        phone.wait_for_url("**/records")

    # A new worker version takes over while entries wait (a new script URL is a new version).
    phone.evaluate("navigator.serviceWorker.addEventListener('controllerchange', () => { window.taken = true; })")
    phone.evaluate(f"navigator.serviceWorker.register('/sw.js?next={marker}', {{type: 'module', scope: '/'}})")
    until(phone, "window.taken === true")  # the new version activated and took over this page
    phone.reload()
    phone.wait_for_selector("html[data-app-ready]", state="attached")
    assert [item(phone, f"Vor dem Update {n} {marker}").get_attribute("data-state") for n in (1, 2)] == ["pending"] * 2

    sent: list[int] = []

    def count(response):
        if response.url.endswith("/api/sync") and response.ok:
            sent.extend(m["mutation_id"] for m in json.loads(response.request.post_data)["mutations"])

    context.on("response", count)
    context.unroute("**/api/sync")
    phone.get_by_role("link", name="Meine Einträge").click()
    phone.wait_for_selector("html[data-app-ready]", state="attached")
    until(phone, "document.querySelectorAll('[data-record-list] [data-state=pending]').length === 0")
    assert [item(phone, f"Vor dem Update {n} {marker}").count() for n in (1, 2)] == [1, 1]
    assert len(sent) == len(set(sent)) >= 2, sent


def test_an_app_too_old_for_the_server_reloads_itself_and_keeps_its_outbox(phone, live_server):
    marker = uuid.uuid4().hex[:8]
    sign_in(phone, live_server, "lotse1")
    ready_offline(phone)
    refused = []

    def too_old(route):
        refused.append(route.request.url)
        route.fulfill(status=426, content_type="application/json",
                      body=json.dumps({"status_code": 426, "detail": "too old", "extra": [{"min_schema": 2}]}))

    phone.context.route("**/api/sync", too_old)
    phone.goto(live_server + "/notes/form")
    phone.wait_for_selector("html[data-app-ready]", state="attached")
    phone.get_by_label("Text").fill(f"Vor dem Neuladen {marker}")
    phone.get_by_role("button", name="Speichern").click()
    phone.wait_for_url("**/records")
    phone.wait_for_selector("html[data-app-ready]", state="attached")
    phone.evaluate("window.beforeReload = true")
    phone.get_by_text("Eine neue Version der App wird geladen").wait_for()
    until(phone, "window.beforeReload !== true")  # it reloaded itself
    assert refused
    phone.context.unroute("**/api/sync")
    phone.wait_for_selector("html[data-app-ready]", state="attached")
    phone.get_by_role("link", name="Meine Einträge").click()
    # Waiting for "no pending entry" alone passed on a list not drawn yet (flaky): wait for the entry itself.
    until(phone, f"[...document.querySelectorAll('[data-record-list] li')].some((li) => "
                 f"li.textContent.includes('Vor dem Neuladen {marker}') && li.dataset.state === 'synced')", timeout=30)


def test_a_refused_entry_shows_the_reason_and_can_be_corrected_and_sent_again(phone, live_server):
    marker = uuid.uuid4().hex[:8]
    sign_in(phone, live_server, "lotse1")
    ready_offline(phone)
    phone.goto(live_server + "/records")
    phone.wait_for_selector("html[data-app-ready]", state="attached")
    # A note whose text the server refuses (a NUL character, as a broken keyboard app might send).
    note_id = phone.evaluate(f"""async () => {{
        const store = await import('/static/js/store.js');
        const session = await store.readSession();
        const db = await store.openUserDb(session.user_id);
        const id = crypto.randomUUID();
        await store.saveEdit(db, 'note', id, {{ body: 'Kaputt {marker}\\u0000', shared: true }});
        db.close();
        return id;
    }}""")
    phone.reload()
    refused = item(phone, f"Kaputt {marker}")
    until(phone, "document.querySelector('[data-record-list] [data-state=rejected]') !== null")
    assert "NUL" in refused.inner_text()
    refused.get_by_role("link").click()
    phone.wait_for_selector("html[data-app-ready]", state="attached")
    assert "NUL" in phone.locator("[data-rejected]").inner_text()
    assert phone.get_by_label("Text").input_value().startswith(f"Kaputt {marker}")  # nothing typed is lost
    phone.get_by_label("Text").fill(f"Repariert {marker}")
    phone.get_by_role("button", name="Speichern").click()
    phone.wait_for_url("**/records")
    until(phone, f"document.querySelector('[data-record-list] a[href$=\"{note_id}\"]')?.closest('li').dataset.state === 'synced'")
    assert f"Repariert {marker}" in item(phone, f"Repariert {marker}").inner_text()


def test_an_alert_shows_its_generic_sentence_and_the_alerts_page_asks_nothing_before_a_tap(phone, live_server):
    sign_in(phone, live_server, "lotse1")
    ready_offline(phone)
    phone.goto(live_server + "/alerts")
    phone.get_by_role("button", name="Benachrichtigungen einschalten").wait_for()
    assert phone.evaluate("Notification.permission") == "default"  # no prompt on load
    phone.context.grant_permissions(["notifications"], origin=live_server)
    cdp = phone.context.new_cdp_session(phone)
    registrations = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda event: registrations.extend(event["registrations"]))
    cdp.send("ServiceWorker.enable")
    for _ in range(50):
        if registrations:
            break
        phone.wait_for_timeout(100)
    registration = next(r for r in registrations if r["scopeURL"] == live_server + "/")
    alert = {"title": "Lotsenbuch", "body": "Sie haben eine neue Anfrage für eine Begleitung.", "url": "/offers", "tag": "offer"}
    cdp.send("ServiceWorker.deliverPushMessage", {"origin": live_server, "registrationId": registration["registrationId"],
                                                   "data": json.dumps(alert)})
    shown = until(phone, "navigator.serviceWorker.ready.then((r) => r.getNotifications())"
                         ".then((all) => all.map((n) => [n.title, n.body, n.tag, n.data.url]))")
    assert shown == [["Lotsenbuch", "Sie haben eine neue Anfrage für eine Begleitung.", "offer", "/offers"]]
    foreign = {"title": "Lotsenbuch", "body": "x", "url": "https://evil.example/phish", "tag": "message"}
    cdp.send("ServiceWorker.deliverPushMessage", {"origin": live_server, "registrationId": registration["registrationId"],
                                                   "data": json.dumps(foreign)})
    urls = until(phone, "navigator.serviceWorker.ready.then((r) => r.getNotifications({tag: 'message'}))"
                        ".then((all) => all.map((n) => n.data.url))")
    assert urls == ["/"]  # a link elsewhere is never followed


def test_an_open_app_shows_a_coordinators_answer_without_waiting_for_its_next_sync(browser, phone, live_server):
    """The server pokes the open app (GET /api/sync/events) instead of it polling: a visit log
    returned by coordination shows as returned long before the app's next timed sync (~1 min)."""
    marker = uuid.uuid4().hex[:8]
    sign_in(phone, live_server, "lotse1")
    ready_offline(phone)
    _write_submitted_log(phone, live_server, f"Jobcenter {marker}", f"Termin {marker} verschoben.")
    assert "Bitte Uhrzeit" not in item(phone, marker).inner_text()

    desk = coordinator(browser, live_server)
    desk.goto(live_server + "/review")
    card = desk.locator(".card", has_text=marker)
    card.get_by_label("Kommentar für die Lotsin oder den Lotsen (nötig zum Zurückgeben)").fill("Bitte Uhrzeit ergänzen.")
    card.get_by_role("button", name="Mit Kommentar zurückgeben").click()
    desk.wait_for_load_state()

    shown = ("[...document.querySelectorAll('[data-record-list] li')].some((li) => "
             f"li.textContent.includes('{marker}') && li.textContent.includes('Bitte Uhrzeit ergänzen.'))")
    until(phone, shown, timeout=20)  # the timed sync would come only after 54 to 66 s
    desk.context.close()
