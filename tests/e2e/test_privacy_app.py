"""Erasure and retention reach the phone's own copy in IndexedDB, and a phone out of contact for
30 days erases what it holds (issue: privacy and security)."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta

import pytest

from tests.e2e.test_offline_app import coordinator, ready_offline, sign_in, until

pytestmark = pytest.mark.browser

RECORDS = """(async () => {
  const session = JSON.parse(document.getElementById('lotsenbuch-session').textContent);
  const db = await new Promise((ok, fail) => {
    const request = indexedDB.open('lotsenbuch-' + session.user_id);
    request.onsuccess = () => ok(request.result);
    request.onerror = () => fail(request.error);
  });
  const all = await new Promise((ok) => {
    const request = db.transaction('records').objectStore('records').getAll();
    request.onsuccess = () => ok(request.result);
  });
  db.close();
  return JSON.stringify(all);
})()"""


def on_phone(page) -> list[dict]:
    return json.loads(page.evaluate(RECORDS))


def synced(page) -> None:
    until(page, "document.querySelectorAll('[data-record-list] [data-state=pending]').length === 0")


def test_an_erased_client_leaves_the_phone_with_the_note_about_them(browser, phone, live_server):
    marker = uuid.uuid4().hex[:8]
    sign_in(phone, live_server, "lotse1")
    ready_offline(phone)
    phone.locator("[aria-labelledby=upcoming-heading] .card a").first.click()
    phone.get_by_role("link", name="Notiz hinzufügen").click()
    phone.get_by_label("Text").fill(f"Notiz über die Klientin {marker}")
    phone.get_by_role("button", name="Speichern").click()
    phone.wait_for_url("**/records")
    synced(phone)
    [note] = [r for r in on_phone(phone) if marker in json.dumps(r)]
    client_id = note["fields"]["client_id"]
    assert client_id

    desk = coordinator(browser, live_server)
    desk.goto(f"{live_server}/clients/{client_id}")
    desk.get_by_label("Ja, diese*n Klient*in löschen").check()
    desk.get_by_role("button", name="Löschen", exact=True).click()
    desk.wait_for_url(live_server + "/clients")
    desk.context.close()

    phone.goto(live_server + "/")
    phone.wait_for_selector("html[data-app-ready]", state="attached")
    phone.get_by_role("button", name="Jetzt synchronisieren").click()
    until(phone, f"{RECORDS}.then((text) => !text.includes('{marker}'))")
    assignments = [r for r in on_phone(phone) if r["entity"] == "assignment" and r["fields"]["client_id"] == client_id]
    assert assignments and all(a["fields"]["client_alias"] == "" for a in assignments)
    assert marker not in phone.locator("main").inner_text()


def test_the_retention_schedule_empties_an_old_visit_log_on_the_phone(browser, phone, live_server):
    marker = uuid.uuid4().hex[:8]
    sign_in(phone, live_server, "lotse1")
    ready_offline(phone)
    phone.goto(live_server + "/visits/form")
    phone.wait_for_selector("html[data-app-ready]", state="attached")
    day = (date.today() - timedelta(days=40)).isoformat()  # over a month ago, within the phone's eight weeks
    phone.get_by_label("Datum").fill(day)
    phone.get_by_label("Jobcenter").check()
    phone.get_by_label("Ergebnis").fill(f"Alter Besuch {marker}")
    phone.get_by_role("button", name="Zur Prüfung einreichen").click()
    phone.wait_for_url("**/records")
    synced(phone)
    assert [r for r in on_phone(phone) if marker in json.dumps(r)]

    desk = coordinator(browser, live_server)
    desk.goto(live_server + "/privacy/retention")
    desk.get_by_label("Freitext von Begleitungsprotokollen und Notizen entfernen nach (Monaten)").fill("1")
    desk.get_by_role("button", name="Speichern").click()
    desk.get_by_role("button", name="Regeln jetzt anwenden").click()
    assert "Jetzt angewendet" in desk.locator("main").inner_text()
    desk.context.close()

    phone.goto(live_server + "/")
    phone.wait_for_selector("html[data-app-ready]", state="attached")
    phone.get_by_role("button", name="Jetzt synchronisieren").click()
    until(phone, f"{RECORDS}.then((text) => !text.includes('{marker}'))")
    [log] = [r for r in on_phone(phone) if r["entity"] == "visit_log" and r["fields"]["date"] == day
             and r["fields"]["place_type"] == "jobcenter" and r["fields"]["outcome"] == ""][-1:]
    assert log["fields"]["status"] == "submitted"


def test_a_phone_out_of_contact_for_thirty_days_erases_itself(phone, live_server):
    sign_in(phone, live_server, "lotse1")
    ready_offline(phone)
    until(phone, f"{RECORDS}.then((text) => JSON.parse(text).length > 0)")
    month_ago = "new Date(Date.now() - 31 * 24 * 3600 * 1000).toISOString()"
    phone.evaluate(f"""(async () => {{
      const session = JSON.parse(document.getElementById('lotsenbuch-session').textContent);
      const db = await new Promise((ok) => {{ const r = indexedDB.open('lotsenbuch-' + session.user_id); r.onsuccess = () => ok(r.result); }});
      await new Promise((ok) => {{ const tx = db.transaction('state', 'readwrite'); tx.objectStore('state').put({month_ago}, 'last_sync'); tx.oncomplete = ok; }});
      db.close();
    }})()""")
    phone.context.set_offline(True)  # lost: nothing reaches the server any more
    phone.reload()
    phone.wait_for_selector("html[data-purged]", state="attached", timeout=15000)
    assert "30 Tage" in phone.locator("main").inner_text()
    assert [d for d in phone.evaluate("indexedDB.databases()") if d["name"].startswith("lotsenbuch")] == []
    assert phone.evaluate("caches.keys()") == []


def test_the_phone_drops_its_copies_of_the_past_after_eight_weeks(phone, live_server):
    sign_in(phone, live_server, "lotse1")
    ready_offline(phone)
    phone.evaluate("""(async () => {
      const session = JSON.parse(document.getElementById('lotsenbuch-session').textContent);
      const db = await new Promise((ok) => { const r = indexedDB.open('lotsenbuch-' + session.user_id); r.onsuccess = () => ok(r.result); });
      const weeksAgo = (n) => new Date(Date.now() - n * 7 * 24 * 3600 * 1000).toISOString();
      await new Promise((ok) => {
        const tx = db.transaction('records', 'readwrite');
        const records = tx.objectStore('records');
        records.put({ key: 'note:old', entity: 'note', id: 'old', version: 1, fields: { body: 'alte Notiz' }, received: weeksAgo(9) });
        records.put({ key: 'visit_log:old', entity: 'visit_log', id: 'old', version: 1, fields: { date: weeksAgo(9).slice(0, 10), outcome: 'alter Besuch' }, received: weeksAgo(1) });
        records.put({ key: 'note:recent', entity: 'note', id: 'recent', version: 1, fields: { body: 'neue Notiz' }, received: weeksAgo(7) });
        tx.oncomplete = ok;
      });
      db.close();
    })()""")
    phone.goto(live_server + "/")
    phone.wait_for_selector("html[data-app-ready]", state="attached")
    phone.get_by_role("button", name="Jetzt synchronisieren").click()
    until(phone, f"{RECORDS}.then((text) => !text.includes('alte Notiz') && !text.includes('alter Besuch'))")
    assert "neue Notiz" in json.dumps(on_phone(phone))
