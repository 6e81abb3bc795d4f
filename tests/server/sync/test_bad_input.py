"""Bad input to POST /api/sync: a 4xx with a sentence and nothing changed, or stored safely; never a 500.

Text is stored as typed except for one thing: it is normalised to Unicode NFC at the body checks
(server/security.py), so a name typed as "e + combining diaeresis" and as "ë" is one name.
Right-to-left marks and zero-width joiners are kept: Arabic, Persian and Kurdish need them.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta

import msgspec
import pytest

from server.notes.tables import Note
from server.sync_tables import ChangeLog, Revision, SyncConflict
from server.visits.tables import VisitLog
from tests.server.sync.conftest import new_id

DEEP = 100_000


async def _state() -> tuple:
    return (await Note.count(), await VisitLog.count(), await ChangeLog.count(), await Revision.count(),
            await SyncConflict.count())


def _body(phone, mutations, **extra) -> dict:
    return {"device_id": phone.device_id, "schema": 1, "cursor": None, "mutations": mutations, **extra}


async def _raw(phone, content: bytes, content_type: str = "application/json"):
    headers = {**phone.headers, "content-type": content_type, "accept-language": "en"}
    return await phone.http.post("/api/sync", content=content, headers=headers)


def _note_json(phone, body_json: bytes) -> bytes:
    """A push of one note whose body is the given raw JSON value."""
    head = b'{"device_id": "%s", "schema": 1, "mutations": [{"mutation_id": 1, "entity": "note", "id": "%s", ' \
           b'"op": "upsert", "fields": {"body": ' % (phone.device_id.encode(), new_id().encode())
    return head + body_json + b"}}]}"


@pytest.mark.parametrize(
    ("value", "status", "words"),
    [
        (b"[" * DEEP + b"]" * DEEP, 400, "verschachtelt"),  # the demo volunteer's language is German
        (b'"Termin \xff\xfe"', 400, "UTF-8"),
        (b'"Termin \\ud800 am Montag"', 400, "JSON"),
        (b'"' + b"x" * 100_000 + b'"', 413, "characters_per_text_field"),
    ],
    ids=["nested-100000-deep", "invalid-utf8", "lone-surrogate", "100000-characters"],
)
async def test_a_malformed_note_is_refused_with_a_sentence_and_changes_nothing(phones, value, status, words):
    phone = await phones()
    before = await _state()
    response = await _raw(phone, _note_json(phone, value))
    assert response.status_code == status, response.text
    payload = response.json()
    assert payload["status"] == status and words.lower() in (payload["error"] + str(payload.get("details"))).lower()
    assert await _state() == before


@pytest.mark.parametrize("content_type", ["application/msgpack", "application/x-msgpack", "application/vnd.msgpack"])
async def test_a_msgpack_body_is_refused_with_415_and_changes_nothing(phones, content_type):
    """The sync speaks JSON only; a msgpack body (valid or hostile) never reaches a decoder."""
    phone = await phones()
    before = await _state()
    for body in (msgspec.msgpack.encode(_body(phone, [phone.mutation("note", new_id(), {"body": "x"})])),
                 b"\xdd\xff\xff\xff\xff" + b"\x91" * 1000, b"\xc1\x00\xff"):
        response = await _raw(phone, body, content_type)
        assert response.status_code == 415 and "application/json" in response.json()["error"]
    assert await _state() == before


async def test_a_batch_of_100000_mutations_is_413_and_nothing_is_applied(phones, settings):
    phone = await phones()
    before = await _state()
    mutations = [{"mutation_id": n, "entity": "note", "id": new_id(), "op": "upsert", "fields": {"body": "x"}}
                 for n in range(1, 100_001)]
    response = await _raw(phone, msgspec.json.encode(_body(phone, mutations)))
    assert response.status_code == 413 and str(settings.max_body_bytes) in response.json()["error"]
    small = [{"mutation_id": n, "entity": "note", "id": new_id(), "op": "upsert"} for n in range(1, 100_001)]
    small_body = msgspec.json.encode(_body(phone, small))
    if len(small_body) <= settings.max_body_bytes:  # under the byte limit, the count limit answers
        response = await _raw(phone, small_body)
        assert response.status_code == 413 and response.json()["details"] == [{"limit": "mutations_per_push", "max": 500}]
    assert await _state() == before


async def test_a_nul_in_a_note_rejects_that_note_only(phones):
    """R9: the note with a NUL can never apply; it is answered and the one after it is not blocked."""
    phone = await phones()
    results = (await phone.sync(phone.mutation("note", new_id(), {"body": "Termin\x00Montag"}),
                                phone.mutation("note", new_id(), {"body": "bleibt"})))["results"]
    assert [r["status"] for r in results] == ["rejected", "applied"] and "NUL" in results[0]["reason"]
    assert [n.body for n in await Note.objects()] == ["bleibt"]


async def test_a_nul_outside_the_mutations_is_a_400(phones):
    phone = await phones()
    before = await _state()
    response = await phone.post([phone.mutation("note", new_id(), {"body": "x"})], cursor="abc\x00")
    assert response.status_code == 400 and "NUL" in response.json()["error"]
    assert await _state() == before


async def test_the_same_name_in_nfc_and_nfd_is_stored_once_as_nfc(phones):
    phone = await phones()
    composed, decomposed = "Zoë Müller", unicodedata.normalize("NFD", "Zoë Müller")
    assert composed != decomposed
    first, second = new_id(), new_id()
    await phone.sync(phone.mutation("note", first, {"body": composed}), phone.mutation("note", second, {"body": decomposed}))
    stored = {str(n.id): n.body for n in await Note.objects()}
    assert stored == {first: composed, second: composed}
    await phone.pull_all()
    assert phone.records[("note", second)]["body"] == composed


async def test_bidi_overrides_and_zero_width_characters_are_kept_as_typed(phones):
    """Stored and sent back unchanged: right-to-left scripts need them. Pages show them as text."""
    phone = await phones()
    text = "Termin \u202eredro\u202c bei \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 \u200b\ufeffende\u2066x\u2069"
    note = new_id()
    await phone.sync(phone.mutation("note", note, {"body": text}))
    assert (await Note.objects().where(Note.id == note).first()).body == text
    await phone.pull_all()
    assert phone.records[("note", note)]["body"] == text


@pytest.mark.parametrize(
    ("client_time", "outcome"),
    [
        ("-0001-01-01T00:00:00Z", 400),  # before year 1: no such time
        (-1, "dropped"),  # a second before 1970: a phone's clock reset (R12)
        ("0001-01-01T00:00:00Z", "dropped"),  # year 1, which PostgreSQL's driver would read back naive
        ("2026-03-02T09:30:00", "dropped"),  # naive: no zone, no meaning (R12)
        ("9999-12-31T23:59:59Z", "clamped"),  # far future: clamped to the server's clock (R12)
        ("2026-03-02T09:30:00+14:00", "kept"),
    ],
)
async def test_odd_client_times_are_refused_or_made_harmless(phones, clock, client_time, outcome):
    phone = await phones()
    before = await _state()
    note = new_id()
    response = await phone.post([phone.mutation("note", note, {"body": "x"}, client_time=client_time)])
    if outcome == 400:
        assert response.status_code == 400 and "client_time" in response.text
        assert await _state() == before
        return
    assert response.status_code == 200 and response.json()["results"][0]["status"] == "applied"
    stored = (await Revision.objects().where(Revision.record_id == note).first()).client_time
    if outcome == "dropped":
        assert stored is None
    elif outcome == "clamped":
        assert stored is not None and stored.year == clock().year and stored <= clock() + timedelta(minutes=5)
    else:
        assert stored == datetime.fromisoformat(client_time.replace("Z", "+00:00"))


@pytest.mark.parametrize(
    ("field", "value"),
    [("date", "-0001-01-01"), ("date", "0000-01-01"), ("date", 20260302), ("follow_up_due", "2026-02-30"),
     ("start_time", "24:00"), ("duration_minutes", -5), ("travel_km", -1.0), ("expenses_cents", 10**20)],
)
async def test_impossible_dates_and_numbers_in_a_visit_log_reject_that_log(phones, field, value):
    phone = await phones()
    response = await phone.post([phone.mutation("visit_log", new_id(), {"date": "2026-03-02", field: value})])
    assert response.status_code in (200, 400), response.text
    if response.status_code == 200:
        assert response.json()["results"][0]["status"] == "rejected"
    assert await VisitLog.count() == 0


async def test_duplicate_ids_in_one_batch_keep_every_value(phones):
    """Two creations of one record in one push: the first is the record, the second an edit of it
    (merged, or a conflict that keeps the text); one mutation id twice answers the first result."""
    phone = await phones()
    note = new_id()
    first = phone.mutation("note", note, {"body": "Erste Fassung"})
    second = phone.mutation("note", note, {"body": "Zweite Fassung"})
    repeated = {**phone.mutation("note", new_id(), {"body": "eins"}), "mutation_id": second["mutation_id"]}
    response = await phone.post([first, second, repeated])
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert await _state() == (0, 0, 0, 0, 0)
        return
    results = response.json()["results"]
    assert results[0]["status"] == "applied" and results[1]["status"] in ("applied", "merged", "conflict")
    assert results[2] == results[1]
    body = (await Note.objects().where(Note.id == note).first()).body
    kept = [body] + [str(c.client_value) for c in await SyncConflict.objects()]
    assert any("Zweite Fassung" in value for value in kept)
    assert await Note.count() == 1


MARKUP = '<script>alert(1)</script> <b hx-get="/logout" hx-trigger="load">x</b> {{7*7}} {% raw %}'


async def test_markup_in_a_visit_log_is_shown_as_text_on_the_coordinators_pages(phones, app):
    from tests.conftest import signed_in

    phone = await phones()
    log = new_id()
    await phone.sync(phone.mutation("visit_log", log, {"date": "2026-03-02", "place_name": MARKUP, "outcome": MARKUP,
                                                       "status": "submitted"}))
    async with signed_in(app, "koordination") as office:
        for path in ("/review", f"/review/{log}/edit"):
            page = await office.get(path)
            assert page.status_code == 200
            assert "<script>alert" not in page.text and 'hx-get="/logout"' not in page.text, path
            assert "&lt;script&gt;" in page.text and "{{7*7}}" in page.text, path  # not 49: never evaluated
    assert (await VisitLog.objects().where(VisitLog.id == log).first()).outcome == MARKUP
