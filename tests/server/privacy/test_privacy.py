"""GDPR duties through HTTP, on SQLite and PostgreSQL: the audit of reads (shown to coordination,
never changed), one client's export and erasure (figures unchanged, phones follow), the retention
schedule, and offboarding one organisation of two."""

from __future__ import annotations

from datetime import date

import msgspec
import pytest

from server import sql
from server.accounts.tables import User
from server.clients import store as clients
from server.organisations import store as organisations
from server.organisations.tables import Organisation
from server.privacy import retention, store
from server.privacy.tables import AuditEntry
from server.reports.store import figures
from server.requests import store as requests
from tests.conftest import csrf_headers, signed_in, visible_text
from tests.server.sync.conftest import new_id, open_phone

SECRET = "Hausbesuch bei Mariam wegen Aufenthaltstitel"  # text that must leave with the client


async def _world(app, clock):
    organisation_id = (await Organisation.select(Organisation.id).first())["id"]
    users = {row["username"]: row["id"] for row in await User.select(User.username, User.id)}
    client_id = await clients.create_client(organisation_id, clock(), alias="Mariam", languages=["fa"], district="Nord",
                                            needs="Termin beim Sozialamt")
    request = await requests.create_request(organisation_id, clock(), source="public", status="matching", language="fa",
                                            purpose="arzt", place="Praxis Dr. Ay", requester="Mariam K.",
                                            contact="0170 1234567", client=client_id, day=date(2026, 3, 3))
    await requests.make_offers(request, organisation_id, [users["lotse1"]], clock())
    [offer] = await requests.offers_of_request(request.id, organisation_id)
    assert await requests.answer_offer(offer.id, users["lotse1"], organisation_id, True, clock()) == "accepted"
    [assignment] = await requests.list_assignments(organisation_id, request_id=request.id)
    phone = await open_phone(app, "lotse1")
    await phone.pull_all()
    note, visit = new_id(), new_id()
    answer = await phone.sync(
        phone.mutation("note", note, {"body": SECRET, "client_id": str(client_id), "shared": True}),
        phone.mutation("visit_log", visit, {"date": "2026-02-20", "place_type": "arztpraxis", "duration_minutes": 90,
                                            "travel_km": 4.5, "status": "submitted", "outcome": SECRET,
                                            "place_name": "Praxis Dr. Ay", "client_id": str(client_id),
                                            "assignment_id": str(assignment.id), "topics": ["Termin"]}),
    )
    assert [r["status"] for r in answer["results"]] == ["applied", "applied"], answer
    return organisation_id, users, client_id, assignment, phone, note, visit


async def _audit_rows(organisation_id) -> list[dict]:
    return await AuditEntry.select().where(AuditEntry.organisation == organisation_id).order_by(AuditEntry.id)


async def test_every_read_of_a_client_is_logged_once_per_request_and_shown_to_coordination(app, demo, clock):
    organisation_id, users, client_id, assignment, phone, *_ = await _world(app, clock)
    other = await clients.create_client(organisation_id, clock(), alias="Olek", languages=["uk"])
    before = len(await _audit_rows(organisation_id))
    # Both sync pages named Mariam: the first with her assignment, the second with the note and log sent back
    assert [(r["purpose"], r["client"]) for r in await _audit_rows(organisation_id)] == [("sync", client_id)] * 2
    async with signed_in(app, "koordination") as office:
        assert (await office.get(f"/clients/{client_id}")).status_code == 200
        assert (await office.get("/clients")).status_code == 200  # one request, two clients: two rows, one insert
        page = await office.get("/audit")
        assert page.status_code == 200
        rows = await _audit_rows(organisation_id)
        assert [(r["purpose"], r["client"]) for r in rows[before:]] == [
            ("page", client_id), ("list", client_id), ("list", other)]
        assert all(r["actor"] == users["koordination"] for r in rows[before:])
        text = visible_text(page.text)
        assert "Sabine Krüger" in text and "Amina Haddad" in text
        assert "Termin beim Sozialamt" not in page.text  # who and when, never the content
        only = await office.get("/audit", params={"client": str(other)})
        assert "Olek" in only.text and "Mariam" not in only.text
        assert (await office.get("/audit", params={"client": "not-a-uuid"})).status_code == 400
    async with signed_in(app, "lotse1") as volunteer:
        assert (await volunteer.get("/audit")).status_code == 404
        assert (await volunteer.get(f"/assignments/{assignment.id}")).status_code == 200
    assert (await _audit_rows(organisation_id))[-1]["purpose"] == "assignment"
    await phone.http.__aexit__(None, None, None)


async def test_the_audit_log_refuses_to_be_changed_or_deleted(app, demo, clock):
    organisation_id = (await Organisation.select(Organisation.id).first())["id"]
    client_id = await clients.create_client(organisation_id, clock(), alias="Mariam", languages=["fa"])
    async with signed_in(app, "koordination") as office:
        await office.get(f"/clients/{client_id}")
    [row] = await _audit_rows(organisation_id)
    for statement in ("UPDATE audit_log SET purpose = 'export'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"):
            async with sql.transaction(AuditEntry._meta.db, write=True) as connection:
                await connection.execute(statement)
    assert await _audit_rows(organisation_id) == [row]


async def test_a_client_exports_everything_about_them_with_who_read_it(app, demo, clock):
    organisation_id, users, client_id, assignment, phone, note, visit = await _world(app, clock)
    other = await clients.create_client(organisation_id, clock(), alias="Olek", languages=["uk"], needs="Olek braucht")
    async with signed_in(app, "koordination") as office:
        await office.get(f"/clients/{client_id}")
        response = await office.get(f"/clients/{client_id}/export")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        assert "attachment" in response.headers["content-disposition"]
        data = msgspec.json.decode(response.content)
        assert (await office.get(f"/clients/{new_id()}/export")).status_code == 404
    assert data["client"]["alias"] == "Mariam" and data["client"]["needs"] == "Termin beim Sozialamt"
    assert [r["contact"] for r in data["requests"]] == ["0170 1234567"]
    assert [a["id"] for a in data["assignments"]] == [str(assignment.id)]
    assert [n["body"] for n in data["notes"]] == [SECRET]
    assert [v["outcome"] for v in data["visit_logs"]] == [SECRET]
    assert [a["purpose"] for a in data["accesses"]] == ["sync", "sync", "page", "export"]
    assert [a["by"] for a in data["accesses"]][1:3] == ["Amina Haddad", "Sabine Krüger"]
    assert "Olek" not in response.text and str(other) not in response.text
    await phone.http.__aexit__(None, None, None)


async def test_erasure_keeps_the_figures_and_reaches_the_phone(app, demo, clock):
    organisation_id, users, client_id, assignment, phone, note, visit = await _world(app, clock)
    quarter = (date(2026, 1, 1), date(2026, 3, 31))
    counted = await figures(organisation_id, *quarter)
    assert counted.visits == 1 and counted.clients == 1
    async with signed_in(app, "koordination") as office:
        headers = await csrf_headers(office)
        unconfirmed = await office.post(f"/clients/{client_id}/erase", data={}, headers=headers)
        assert unconfirmed.status_code == 400 and await clients.get_client(client_id, organisation_id) is not None
        erased = await office.post(f"/clients/{client_id}/erase", data={"confirm": "erase"}, headers=headers)
        assert erased.status_code == 303
        assert (await office.get(f"/clients/{client_id}")).status_code == 404
        assert "Mariam" not in (await office.get("/clients")).text
        assert (await office.post(f"/clients/{client_id}/erase", data={"confirm": "erase"}, headers=headers)).status_code == 404
    assert await figures(organisation_id, *quarter) == counted

    await phone.sync()
    assert ("note", note) not in phone.records  # ended: the phone deletes its copy
    kept = phone.records[("visit_log", visit)]
    assert kept["outcome"] == "" and kept["place_name"] == "" and kept["duration_minutes"] == 90
    copy = phone.records[("assignment", str(assignment.id))]
    assert copy["client_alias"] == "" and copy["client_needs"] == "" and copy["place"] == ""

    async with sql.transaction(AuditEntry._meta.db, write=False) as connection:
        for table in ("client", "note", "visit_log", "revision", "help_request", "assignment", "sync_conflict"):
            rows = await connection.fetch_named(f'SELECT * FROM "{table}"')
            text = str(rows)
            for secret in (SECRET, "Mariam", "Termin beim Sozialamt", "0170 1234567", "Praxis Dr. Ay"):
                assert secret not in text, (table, secret)
    assert "erase" in [r["purpose"] for r in await _audit_rows(organisation_id)]
    await phone.http.__aexit__(None, None, None)


async def test_a_retention_schedule_removes_old_text_and_inactive_clients_once_a_day(app, demo, clock):
    organisation_id, users, client_id, assignment, phone, note, visit = await _world(app, clock)
    async with signed_in(app, "koordination") as office:
        headers = await csrf_headers(office)
        wrong = await office.post("/privacy/retention", data={"log_text_months": "0", "inactive_client_months": "x"},
                                  headers=headers)
        assert wrong.status_code == 400 and await retention.policy(organisation_id) == retention.Policy()
        saved = await office.post("/privacy/retention", data={"log_text_months": "6", "inactive_client_months": "12"},
                                  headers=headers)
        assert saved.status_code == 200
    assert await retention.policy(organisation_id) == retention.Policy(log_text_months=6, inactive_client_months=12)
    recent = new_id()
    await phone.sync(phone.mutation("visit_log", recent, {"date": "2026-09-01", "status": "draft", "outcome": "neu"}))
    quarter = await figures(organisation_id, date(2026, 1, 1), date(2026, 3, 31))

    async def later(days):  # the phone syncs every few weeks, so its session (90 days from its last use) lasts
        for _ in range(days // 50):
            clock.advance(days=50)
            await phone.sync()
        clock.advance(days=days % 50)

    await later(200)  # Feb 20 + 200 days: the February log is over six months old, the September one is not
    [outcome] = await retention.run_due(clock())
    assert (outcome.texts, outcome.clients) == (2, 0)  # the February log and the note (last changed in March)
    assert await retention.run_due(clock()) == []  # once a day, whichever worker claims it
    await phone.sync()
    assert phone.records[("visit_log", visit)]["outcome"] == "" and ("note", note) not in phone.records
    assert phone.records[("visit_log", recent)]["outcome"] == "neu"
    assert await figures(organisation_id, date(2026, 1, 1), date(2026, 3, 31)) == quarter

    await later(200)  # over a year since the assignment in March: Mariam is erased
    [outcome] = await retention.run_due(clock())
    assert outcome.clients == 1 and await clients.get_client(client_id, organisation_id) is None
    await phone.sync()
    assert phone.records[("assignment", str(assignment.id))]["client_alias"] == ""
    await phone.http.__aexit__(None, None, None)


def test_months_are_counted_by_the_calendar():
    assert retention.months_before(date(2026, 8, 31), 6) == date(2026, 2, 28)
    assert retention.months_before(date(2026, 1, 15), 13) == date(2024, 12, 15)


async def test_offboarding_exports_then_removes_one_organisation_and_leaves_the_other(app, demo, clock):
    organisation_id, users, client_id, assignment, phone, *_ = await _world(app, clock)
    await phone.http.__aexit__(None, None, None)
    other = await organisations.create_organisation("Zweiter Träger", clock())
    from server.accounts import store as accounts

    await accounts.create_user(organisation_id=other, username="admin-zwei", display_name="Admin Zwei", role="admin",
                               password="zweiter-traeger-1", now=clock())
    await clients.create_client(other, clock(), alias="Zweitklient", languages=["ar"])
    kept = await store.count_organisation_rows(other)
    before = await store.count_organisation_rows(organisation_id)
    assert before["client"] == 1 and before["note"] == 1 and before["audit_log"] == 2 and before["change_log"] > 0

    async with signed_in(app, "admin-zwei", "zweiter-traeger-1") as admin:
        export = await admin.get(f"/admin/organisations/{organisation_id}/export")
        assert export.status_code == 200 and "attachment" in export.headers["content-disposition"]
        data = msgspec.json.decode(export.content)
        assert [c["alias"] for c in data["tables"]["client"]] == ["Mariam"]
        assert [n["body"] for n in data["tables"]["note"]] == [SECRET]
        assert all(len(data["tables"][name]) == count for name, count in before.items())  # every row, table by table
        assert "password_hash" not in export.text and "Zweitklient" not in export.text
        assert "user_session" not in data["tables"] and "invitation" not in data["tables"]

        headers = await csrf_headers(admin)
        target = f"/admin/organisations/{organisation_id}/delete"
        assert (await admin.post(target, data={"confirm": "wrong"}, headers=headers)).status_code == 400
        assert (await admin.post(f"/admin/organisations/{other}/delete", data={"confirm": "Zweiter Träger"},
                                 headers=headers)).status_code == 409  # not one's own
        name = (await organisations.get(organisation_id)).name
        assert (await admin.post(target, data={"confirm": name}, headers=headers)).status_code == 303
        assert (await admin.get(f"/admin/organisations/{organisation_id}")).status_code == 404
    assert all(count == 0 for count in (await store.count_organisation_rows(organisation_id)).values())
    assert await store.count_organisation_rows(other) == kept
    async with signed_in(app, "admin-zwei", "zweiter-traeger-1") as admin:  # the other organisation works on
        assert (await admin.get(f"/admin/organisations/{other}")).status_code == 200


async def test_a_first_pull_sends_the_past_only_eight_weeks_back(app, demo, clock):
    organisation_id, users, client_id, assignment, phone, note, visit = await _world(app, clock)
    await phone.http.__aexit__(None, None, None)
    clock.advance(weeks=9)
    fresh = await open_phone(app, "lotse1")
    await fresh.pull_all()
    assert ("note", note) not in fresh.records and ("visit_log", visit) not in fresh.records
    assert not [key for key in fresh.records if key[0] in ("assignment", "offer")]  # of a day nine weeks ago
    recent = new_id()
    await fresh.sync(fresh.mutation("note", recent, {"body": "heute"}))
    newer = await open_phone(app, "lotse1")
    await newer.pull_all()
    assert ("note", recent) in newer.records
    for opened in (fresh, newer):
        await opened.http.__aexit__(None, None, None)


async def test_coordination_applies_the_schedule_at_once(app, demo, clock):
    organisation_id, users, client_id, assignment, phone, note, visit = await _world(app, clock)
    await phone.http.__aexit__(None, None, None)
    clock.advance(days=62)
    async with signed_in(app, "koordination") as office:
        headers = await csrf_headers(office)
        await office.post("/privacy/retention", data={"log_text_months": "1"}, headers=headers)
        applied = await office.post("/privacy/retention/run", headers=headers)
        assert applied.status_code == 200 and "2" in visible_text(applied.text)
    async with sql.transaction(AuditEntry._meta.db, write=False) as connection:
        assert SECRET not in str(await connection.fetch_named("SELECT * FROM note"))
        assert SECRET not in str(await connection.fetch_named("SELECT * FROM visit_log"))


async def test_the_volunteers_start_page_and_offers_are_logged_as_reads_of_their_clients(app, demo, clock):
    organisation_id, users, client_id, assignment, phone, *_ = await _world(app, clock)
    await phone.http.__aexit__(None, None, None)
    async with signed_in(app, "lotse1") as volunteer:
        before = len(await _audit_rows(organisation_id))
        assert (await volunteer.get("/")).status_code == 200
        assert (await volunteer.get("/offers")).status_code == 200
        assert (await volunteer.get("/assignments")).status_code == 200
    rows = (await _audit_rows(organisation_id))[before:]
    assert [(r["purpose"], r["client"], r["actor"]) for r in rows] == [("list", client_id, users["lotse1"])] * 3
