"""Markup and template syntax in a note are shown as text on the phone, before and after the sync."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.test_offline_app import item, ready_offline, sign_in, until

pytestmark = pytest.mark.browser


def test_markup_in_a_note_is_shown_as_text_on_the_phone(phone, live_server):
    marker = uuid.uuid4().hex[:8]
    text = f'{marker} {{{{7*7}}}} <script>window.ran = 1</script> <b hx-get="/logout" hx-trigger="load">fett</b>'
    sign_in(phone, live_server, "lotse1")
    ready_offline(phone)
    phone.goto(live_server + "/records")
    phone.wait_for_selector("html[data-app-ready]", state="attached")
    phone.evaluate("""async (text) => {
        const store = await import('/static/js/store.js');
        const session = await store.readSession();
        const db = await store.openUserDb(session.user_id);
        await store.saveEdit(db, 'note', crypto.randomUUID(), { body: text, shared: true });
        db.close();
    }""", text)
    phone.reload()
    phone.wait_for_selector("html[data-app-ready]", state="attached")
    until(phone, f"[...document.querySelectorAll('[data-record-list] li')].some((li) => li.textContent.includes('{marker}') && li.dataset.state === 'synced')")
    shown = item(phone, marker)  # the list shows the first words of a note
    assert f"{marker} {{{{7*7}}}} <script>window.ran = 1</script>" in shown.inner_text()
    assert shown.locator("script, b, [hx-get]").count() == 0
    assert phone.evaluate("window.ran") is None
    assert phone.url.endswith("/records")  # nothing fired the hx-get to /logout
