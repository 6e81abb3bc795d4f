"""The report against figures counted by hand; the CSV parsed back; the dashboard's counts."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest

from server.accounts.store import update_user
from server.accounts.tables import User
from server.clients import store as clients
from server.events import store as events
from server.organisations.tables import Organisation
from server.reports.store import figures
from server.requests import store as requests
from tests.conftest import signed_in, visible_text
from tests.server.sync.conftest import new_id, open_phone

Q1 = {"from": "2026-01-01", "to": "2026-03-31"}


async def _assignment(organisation_id, volunteer_id, client_id, clock, purpose, language):
    request = await requests.create_request(organisation_id, clock(), source="coordinator", status="matching", language=language,
                                            purpose=purpose, client=client_id)
    await requests.make_offers(request, organisation_id, [volunteer_id], clock())
    [offer] = await requests.offers_of_request(request.id, organisation_id)
    assert await requests.answer_offer(offer.id, volunteer_id, organisation_id, True, clock()) == "accepted"
    from server.assignments.tables import Assignment

    return (await Assignment.select(Assignment.id).where(Assignment.request == request.id).first())["id"]


def log(day, place, minutes, km, status="submitted", assignment=None, client=None, cents=0):
    return {"date": day, "place_type": place, "duration_minutes": minutes, "travel_km": km, "status": status,
            "assignment_id": str(assignment) if assignment else None, "client_id": str(client) if client else None,
            "expenses_cents": cents}


@pytest.fixture
async def world(app, demo, clock):
    organisation_id = (await Organisation.select(Organisation.id).first())["id"]
    users = {row["username"]: row["id"] for row in await User.select(User.username, User.id)}
    await update_user(users["lotse2"], organisation_id, pledge_signed_on=clock().date(), display_name='=HYPERLINK("x")')
    fatima = await clients.create_client(organisation_id, clock(), alias="Fatima", languages=["ar"])
    olek = await clients.create_client(organisation_id, clock(), alias="Oleksandr", languages=["uk"])
    doctor = await _assignment(organisation_id, users["lotse1"], fatima, clock, "arzt", "ar")
    housing = await _assignment(organisation_id, users["lotse2"], olek, clock, "wohnung", "uk")
    amina, jonas = await open_phone(app, "lotse1"), await open_phone(app, "lotse2")
    answer = await amina.sync(
        amina.mutation("visit_log", new_id(), log("2026-03-03", "arztpraxis", 90, 4.5, assignment=doctor, client=fatima, cents=250)),
        amina.mutation("visit_log", new_id(), log("2026-04-10", "arztpraxis", 45, 4.5, "submitted", doctor, fatima)),  # next quarter
        amina.mutation("visit_log", new_id(), log("2026-02-10", "jobcenter", 30, 0)),  # no assignment, no client
        amina.mutation("visit_log", new_id(), log("2026-03-05", "sozialamt", 60, 2, "draft")),  # a draft counts not
    )
    assert [r["status"] for r in answer["results"]] == ["applied"] * 4, answer["results"]
    answer = await jonas.sync(jonas.mutation("visit_log", new_id(), log("2026-03-20", "wohnungsamt", 60, 10, "submitted", housing, olek)))
    assert [r["status"] for r in answer["results"]] == ["applied"], answer["results"]
    catalogue = await events.modules(organisation_id)
    required = [m for m in catalogue if m.required]
    for module in required:  # Jonas completes the last required module in March: a certificate
        await events.complete(module.id, users["lotse2"], date(2026, 3, 10))
    await events.complete(catalogue[0].id, users["lotse1"], date(2026, 2, 1))
    await events.complete(catalogue[1].id, users["lotse1"], date(2025, 12, 1))  # last year
    event_id = await events.create_event(organisation_id, clock(), kind="stammtisch", title="Stammtisch März",
                                         starts_at=datetime(2026, 3, 6, 17, 0, tzinfo=UTC))
    await events.answer(event_id, users["lotse1"], "yes", clock())
    await events.answer(event_id, users["lotse2"], "yes", clock())
    await events.record_attendance(await events.get_event(event_id, organisation_id), {users["lotse1"], users["lotse2"]},
                                   {users["lotse1"]})
    for phone in (amina, jonas):
        await phone.http.__aexit__(None, None, None)
    return len(required)


async def test_a_quarter_counted_by_hand(app, world):
    required = world
    async with signed_in(app, "koordination") as office:
        page = await office.get("/reports", params=Q1)
    assert page.status_code == 200
    text = visible_text(page.text)
    for expected in ("Begleitungen 3", "Verschiedene begleitete Personen 2", "Stunden 3,0", "Fahrtkilometer 14,5",
                     "Neue Lots*innen 2", f"Abgeschlossene Module {required + 1}", "Zertifikate 1"):
        assert expected in text, expected
    assert "Fatima" not in page.text and "Oleksandr" not in page.text  # counted, never named
    assert "Stammtisch März" in text and "Amina Haddad 2 2,0 4,5 2,50 €" in text  # German decimal comma
    assert "<svg" in page.text and 'class="chart-bar"' in page.text


async def test_the_csv_reads_back_and_a_formula_comes_out_inert(app, world):
    async with signed_in(app, "koordination") as office:
        answer = await office.get("/reports.csv", params=Q1)
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.content.startswith(b"\xef\xbb\xbf")  # the BOM, so that Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig")), delimiter=";"))
    table = {row[0]: row[1:] for row in rows if len(row) == 2}
    assert table["Begleitungen"] == ["3"] and table["Verschiedene begleitete Personen"] == ["2"]
    by_place = {row[1]: row[2] for row in rows if row[0] == "Nach Art des Ortes"}
    assert by_place == {"Arztpraxis": "1", "Jobcenter": "1", "Wohnungsamt": "1"}
    by_purpose = {row[1]: row[2] for row in rows if row[0] == "Nach Anlass"}
    assert by_purpose == {"Arzt": "1", "Wohnung": "1", "ohne Einsatz": "1"}
    volunteers = {row[1]: row[2:] for row in rows if row[0] == "Lotsin / Lotse"}
    assert volunteers["'=HYPERLINK(\"x\")"] == ["1", "1.0", "10.0", "0.00"]  # shown as text, never run
    assert volunteers["Amina Haddad"] == ["2", "2.0", "4.5", "2.50"]
    months = await figures(
        (await Organisation.select(Organisation.id).first())["id"], date(2026, 1, 1), date(2026, 3, 31))
    assert months.by_month == [("2026-02", 1), ("2026-03", 2)]
    assert months.by_language == [("", 1), ("ar", 1), ("uk", 1)]
    assert [(e.title, e.coming, e.attended) for e in months.events] == [("Stammtisch März", 2, 1)]


def pdf_text(answer) -> str:
    from pypdf import PdfReader

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"].startswith("attachment; filename=")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(answer.content)).pages)
    return " ".join(text.split())  # one space for line breaks and the no-break space before €


async def test_the_report_as_pdf_holds_the_figures_and_names_no_client(app, world):
    required = world
    async with signed_in(app, "koordination") as office:
        text = pdf_text(await office.get("/reports.pdf", params=Q1))
    for expected in ("Bericht 01.01.2026 bis 31.03.2026", "Begleitungen 3", "Verschiedene begleitete Personen 2",
                     "Stunden 3,0", "Fahrtkilometer 14,5", f"Abgeschlossene Module {required + 1}", "Zertifikate 1",
                     "Zu Terminen gekommen 1", "Feb. 2026 1 März 2026 2", "Arztpraxis 1 Jobcenter 1 Wohnungsamt 1",
                     "Arabisch 1", "Amina Haddad 2 2,0 4,5 2,50 €", "06.03.2026 Stammtisch März 2 1", "Seite 1 von 1"):
        assert expected in text, expected
    assert "Fatima" not in text and "Oleksandr" not in text  # counted, never named
    async with signed_in(app, "lotse1") as amina:
        assert (await amina.get("/reports.pdf", params=Q1)).status_code == 404


async def test_a_volunteers_statement_as_pdf_lists_only_their_counted_visits(app, world):
    from server.accounts.store import update_user

    users = {row["username"]: row["id"] for row in await User.select(User.username, User.id)}
    organisation_id = (await Organisation.select(Organisation.id).first())["id"]
    await update_user(users["lotse1"], organisation_id, display_name="Олена Коваль")  # any script comes out as typed
    async with signed_in(app, "lotse1") as amina:
        text = pdf_text(await amina.get("/statement.pdf", params=Q1))
        refused = await amina.get("/statement.pdf", params={"from": "2026-03-31", "to": "2026-01-01"})
    assert "Олена Коваль" in text and "Arztpraxis" in text and "Jobcenter" in text
    assert "Wohnungsamt" not in text and "Sozialamt" not in text  # not Jonas's, not the draft
    assert "Auslagen 2,50 €" in text and "Stunden 2,0" in text
    assert refused.status_code == 400 and "Zeitraum" in visible_text(refused.text)
    async with signed_in(app, "koordination") as office:
        assert (await office.get("/statement.pdf")).status_code == 404


async def test_a_period_that_is_not_one_is_refused_with_a_sentence(app, world):
    async with signed_in(app, "koordination") as office:
        for params in ({"from": "2026-03-31", "to": "2026-01-01"}, {"from": "gestern", "to": "2026-01-01"}):
            answer = await office.get("/reports", params=params)
            assert answer.status_code == 400 and "Zeitraum" in visible_text(answer.text)
    async with signed_in(app, "lotse1") as amina:
        assert (await amina.get("/reports")).status_code == 404


async def test_the_dashboard_counts_what_waits_and_links_to_it(app, world):
    async with signed_in(app, "koordination") as office:
        page = await office.get("/dashboard")
    text = visible_text(page.text)
    assert "4 Protokolle zur Prüfung" in text  # every submitted one, whatever its date; not the draft
    assert 'href="/review"' in page.text and 'href="/conflicts"' in page.text
    assert "2 Lots*innen diesen Monat aktiv" in text


async def test_a_volunteers_own_statement_sums_only_their_counted_visits(app, world):
    async with signed_in(app, "lotse1") as amina:
        page = await amina.get("/statement", params=Q1)
    text = visible_text(page.text)
    assert page.status_code == 200
    for expected in ("Begleitungen 2", "Stunden 2,0", "Fahrtkilometer 4,5", "Auslagen 2,50 €"):
        assert expected in text, expected
    rows = visible_text(page.text.split("<tbody>")[1].split("</tbody>")[0])
    assert "Arztpraxis" in rows and "Jobcenter" in rows
    assert "Wohnungsamt" not in rows and "Sozialamt" not in rows  # not Jonas's, not the draft
    async with signed_in(app, "koordination") as office:
        assert (await office.get("/statement")).status_code == 404


async def test_the_network_view_adds_up_every_organisation_and_names_nobody(app, world, clock):
    from server.organisations import store as organisations

    other = await organisations.create_organisation("Caritas Nord", clock())
    from server.accounts.store import create_user

    helper = await create_user(organisation_id=other, username="lotse-nord", display_name="Nora Nord", role="volunteer",
                               password="matrix-password-1", now=clock())
    await update_user(helper, other, pledge_signed_on=clock().date())
    phone = await open_phone(app, "lotse-nord", "matrix-password-1")
    await phone.sync(phone.mutation("visit_log", new_id(), log("2026-03-11", "jobcenter", 120, 3, client=new_id())))
    await phone.http.__aexit__(None, None, None)
    async with signed_in(app, "admin") as admin:
        page = await admin.get("/admin/network", params=Q1)
    text = visible_text(page.text)
    assert page.status_code == 200
    assert "Begleitungen 4" in text and "Verschiedene begleitete Personen 3" in text and "Stunden 5,0" in text
    rows = visible_text(page.text.split("<tbody>")[1].split("</tbody>")[0])
    assert "Caritas Nord 1 1 2,0 3,0" in rows
    assert "Nora Nord" not in page.text and "Amina" not in page.text and "Fatima" not in page.text
    async with signed_in(app, "koordination") as office:
        assert (await office.get("/admin/network")).status_code == 404
