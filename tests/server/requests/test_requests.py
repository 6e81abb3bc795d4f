"""Coordination through HTTP: the public form, clients, the inbox, matching, offers, the race for
an offer, assignments, and the review of visit logs — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
import uuid

from server.accounts.store import update_user
from server.accounts.tables import User
from server.assignments.tables import Assignment
from server.clients.tables import Client
from server.organisations.tables import Organisation
from server.requests import store
from server.requests.tables import HelpRequest, Offer
from tests.conftest import csrf_headers, make_client, signed_in, visible_text
from tests.server.sync.conftest import open_phone

REQUEST = {"requester": "Kita Sonnenschein", "contact": "0151 2345678", "language": "ar", "purpose": "kita_schule",
           "day": "2026-03-09", "time_from": "09:00", "time_to": "11:00", "place": "Kita Sonnenschein, Lindenweg 3",
           "description": "Anmeldegespräch für die Tochter."}


async def _organisation_id():
    return (await Organisation.select(Organisation.id).first())["id"]


async def _user_id(username: str):
    return (await User.select(User.id).where(User.username == username).first())["id"]


async def _pledge(username: str, clock) -> None:
    await update_user(await _user_id(username), await _organisation_id(), pledge_signed_on=clock().date())


async def test_the_public_form_ends_with_a_reference_the_office_finds_in_its_inbox(app, demo):
    organisation_id = await _organisation_id()
    async with make_client(app) as http:
        page = await http.get(f"/help/{organisation_id}")
        assert page.status_code == 200 and "Begleitung anfragen" in page.text
        response = await http.post(f"/help/{organisation_id}", data=REQUEST, headers=await csrf_headers(http))
        assert response.status_code == 303
        sent = await http.get(response.headers["location"])
    reference = re.search(r'class="reference">([A-Z0-9-]+)<', sent.text).group(1)
    assert re.fullmatch(r"[A-Z0-9]{3}-[A-Z0-9]{3}", reference)
    row = await HelpRequest.select().where(HelpRequest.reference == reference).first()
    assert (row["source"], row["status"], row["requester"]) == ("public", "new", "Kita Sonnenschein")
    async with signed_in(app, "koordination") as office:
        inbox = await office.get("/requests?status=new")
        assert reference in inbox.text and "öffentliches Formular" in inbox.text


async def test_a_wrong_public_form_names_each_problem_and_keeps_what_was_typed(app, demo):
    organisation_id = await _organisation_id()
    async with make_client(app) as http:
        wrong = {**REQUEST, "contact": "", "language": "xx", "day": "2026-02-01", "time_to": "08:00"}
        response = await http.post(f"/help/{organisation_id}", data=wrong, headers=await csrf_headers(http))
    assert response.status_code == 400
    text = visible_text(response.text)
    for sentence in ("Telefonnummer oder E-Mail-Adresse", "Sprache", "ab heute", "nach dem Beginn"):
        assert sentence in text, sentence
    assert "Anmeldegespräch für die Tochter." in response.text
    assert await HelpRequest.count() == 0


async def test_the_honeypot_and_the_rate_limit_stop_floods_of_requests(app, demo, clock):
    organisation_id = await _organisation_id()
    async with make_client(app) as http:
        headers = await csrf_headers(http)
        trapped = await http.post(f"/help/{organisation_id}", data={**REQUEST, "website": "http://spam.example"}, headers=headers)
        assert trapped.status_code == 400
        assert await HelpRequest.count() == 0
        for _ in range(5):
            assert (await http.post(f"/help/{organisation_id}", data=REQUEST, headers=headers)).status_code == 303
        refused = await http.post(f"/help/{organisation_id}", data=REQUEST, headers=headers)
        assert refused.status_code == 429
        assert 0 < int(refused.headers["retry-after"]) <= 3600
        assert await HelpRequest.count() == 5
        clock.advance(hours=1, seconds=1)
        assert (await http.post(f"/help/{organisation_id}", data=REQUEST, headers=headers)).status_code == 303


async def test_an_unknown_organisation_has_no_form(app, demo):
    async with make_client(app) as http:
        assert (await http.get(f"/help/{uuid.uuid4()}")).status_code == 404


async def test_clients_are_added_checked_and_changed_by_coordination(app, demo):
    async with signed_in(app, "koordination") as office:
        headers = await csrf_headers(office)
        bad = await office.post("/clients", data={"alias": "", "languages": ["zz"], "consent_on": "2030-01-01"}, headers=headers)
        assert bad.status_code == 400
        assert "Alias oder einen Vornamen" in bad.text and "Einwilligung" in visible_text(bad.text)
        assert await Client.count() == 0
        made = await office.post("/clients", data={"alias": "Fatima", "languages": ["ar", "fr"], "district": "Nordstadt",
                                                   "consent_on": "2026-02-20", "active": ["1", "0"]}, headers=headers)
        assert made.status_code == 303
        page = await office.get(made.headers["location"])
        assert "Fatima" in page.text and 'value="Nordstadt"' in page.text
        changed = await office.post(made.headers["location"], data={"alias": "Fatima", "languages": ["ar"], "active": "0"},
                                    headers=headers)
        assert changed.status_code == 303
    row = await Client.select().first()
    assert row["active"] is False and row["district"] == "" and row["consent_on"] is None


async def _client_and_request(office, headers, **overrides) -> str:
    made = await office.post("/clients", data={"alias": "Fatima", "languages": ["ar", "fr"], "district": "Nordstadt",
                                               "consent_on": "2026-02-20", "active": "1"}, headers=headers)
    client_id = made.headers["location"].rsplit("/", 1)[1]
    response = await office.post("/requests", data={**REQUEST, "client_id": client_id, **overrides}, headers=headers)
    assert response.status_code == 303, response.text
    return response.headers["location"]


async def test_the_whole_way_from_request_to_approved_visit_log(app, demo, clock):
    """request → matching → offer → accept → visit log → review → returned → resubmitted → approved."""
    await _pledge("lotse2", clock)
    amina, jonas = await _user_id("lotse1"), await _user_id("lotse2")
    async with signed_in(app, "koordination") as office:
        headers = await csrf_headers(office)
        request_page = await _client_and_request(office, headers)
        detail = await office.get(request_page)
        text = visible_text(detail.text)
        # Amina speaks Arabic natively, lives in Nordstadt and is free on Monday mornings: first.
        assert text.index("Amina Haddad") < text.index("Jonas Becker")
        assert "spricht Arabisch (Muttersprache)" in text and "wohnt in Nordstadt" in text
        assert "spricht Arabisch nicht" in text  # Jonas, with the reason
        offered = await office.post(f"{request_page}/offers", data={"volunteer_ids": [str(amina), str(jonas)]}, headers=headers)
        assert offered.status_code == 303
        assert (await HelpRequest.select(HelpRequest.status).first())["status"] == "offered"
    async with signed_in(app, "lotse1") as phone:
        offers = await phone.get("/offers")
        assert "Kita Sonnenschein" in offers.text and "Fatima" in offers.text
        offer_id = re.search(r'action="/offers/([0-9a-f-]+)"', offers.text).group(1)
        accepted = await phone.post(f"/offers/{offer_id}", data={"answer": "accept"}, headers=await csrf_headers(phone))
        assert accepted.headers["location"] == "/offers?outcome=accepted"
        assignments = await phone.get("/assignments")
        assert "Kita Sonnenschein, Lindenweg 3" in assignments.text
    async with signed_in(app, "lotse2") as late:
        offers = await late.get("/offers")
        assert "bereits vergeben" in offers.text and 'name="answer"' not in offers.text
    assignment = await Assignment.select().first()
    assert assignment["volunteer"] == amina
    # Amina writes the visit log on her phone and submits it.
    phone = await open_phone(app, "lotse1")
    log = str(uuid.uuid4())
    fields = {"assignment_id": str(assignment["id"]), "client_id": str(assignment["client"]), "date": "2026-03-09",
              "place_type": "kita_schule", "place_name": "Kita Sonnenschein", "outcome": "Anmeldung abgegeben.",
              "status": "submitted", "duration_minutes": 90}
    await phone.sync(phone.mutation("visit_log", log, fields))
    async with signed_in(app, "koordination") as office:
        headers = await csrf_headers(office)
        queue = await office.get("/review")
        assert "Anmeldung abgegeben." in queue.text and "Amina Haddad" in queue.text
        empty_return = await office.post(f"/review/{log}", data={"decision": "return", "comment": " "}, headers=headers)
        assert empty_return.status_code == 400
        returned = await office.post(f"/review/{log}", data={"decision": "return", "comment": "Bitte Fahrtkilometer ergänzen."},
                                     headers=headers)
        assert returned.status_code == 303
        assert "Anmeldung abgegeben." not in (await office.get("/review")).text
    await phone.pull_all()
    record = phone.records[("visit_log", log)]
    assert (record["status"], record["coordinator_comment"]) == ("returned", "Bitte Fahrtkilometer ergänzen.")
    await phone.sync(phone.mutation("visit_log", log, {"travel_km": 6.5, "status": "submitted"}, base_version=record["version"]))
    async with signed_in(app, "koordination") as office:
        headers = await csrf_headers(office)
        assert "Anmeldung abgegeben." in (await office.get("/review")).text
        approved = await office.post(f"/review/{log}", data={"decision": "approve"}, headers=headers)
        assert approved.status_code == 303
    await phone.pull_all()
    assert phone.records[("visit_log", log)]["status"] == "approved"
    assert phone.records[("visit_log", log)]["travel_km"] == 6.5
    await phone.http.__aexit__(None, None, None)


async def test_two_volunteers_accepting_at_the_same_moment_exactly_one_wins(app, demo, clock):
    await _pledge("lotse2", clock)
    organisation_id = await _organisation_id()
    amina, jonas = await _user_id("lotse1"), await _user_id("lotse2")
    for _ in range(5):
        request = await store.create_request(organisation_id, clock(), source="coordinator", status="matching",
                                             language="ar", purpose="arzt")
        assert await store.make_offers(request, organisation_id, [amina, jonas], clock()) == 2
        offers = {o.volunteer_id: o.id for o in await store.offers_of_request(request.id, organisation_id)}
        outcomes = await asyncio.gather(
            store.answer_offer(offers[amina], amina, organisation_id, True, clock()),
            store.answer_offer(offers[jonas], jonas, organisation_id, True, clock()),
        )
        assert sorted(outcomes) == ["accepted", "taken"]
        assert await Assignment.count().where(Assignment.request == request.id) == 1
        statuses = sorted(r["status"] for r in await Offer.select(Offer.status).where(Offer.request == request.id))
        assert statuses == ["accepted", "taken"]


async def test_offers_only_reach_volunteers_with_a_pledge_and_a_cancelled_request_withdraws_them(app, demo, clock):
    organisation_id = await _organisation_id()
    amina, jonas = await _user_id("lotse1"), await _user_id("lotse2")  # Jonas has no pledge yet
    request = await store.create_request(organisation_id, clock(), source="coordinator", status="matching",
                                         language="uk", purpose="wohnung")
    assert await store.make_offers(request, organisation_id, [amina, jonas], clock()) == 1
    async with signed_in(app, "lotse2") as jonas_phone:
        assert (await jonas_phone.get("/offers")).status_code == 403
    async with signed_in(app, "koordination") as office:
        headers = await csrf_headers(office)
        detail = visible_text((await office.get(f"/requests/{request.id}")).text)
        assert "Niemand spricht Ukrainisch" in detail
        refused = await office.post(f"/requests/{request.id}/status", data={"status": "done"}, headers=headers)
        assert refused.status_code == 400
        cancelled = await office.post(f"/requests/{request.id}/status", data={"status": "cancelled"}, headers=headers)
        assert cancelled.status_code == 303
    assert [r["status"] for r in await Offer.select(Offer.status)] == ["withdrawn"]
    offer_id = (await Offer.select(Offer.id).first())["id"]
    assert await store.answer_offer(offer_id, amina, organisation_id, True, clock()) == "withdrawn"
    assert await Assignment.count() == 0


async def test_an_offer_nobody_answers_is_flagged_after_the_configured_time(app, demo, clock):
    organisation_id = await _organisation_id()
    request = await store.create_request(organisation_id, clock(), source="coordinator", status="matching",
                                         language="ar", purpose="arzt", place="Praxis Dr. Yilmaz")
    await store.make_offers(request, organisation_id, [await _user_id("lotse1")], clock())
    flag = "seit mehr als 48 Stunden"
    async with signed_in(app, "koordination") as office:
        assert flag not in visible_text((await office.get("/requests")).text)
    clock.advance(hours=47)
    async with signed_in(app, "koordination") as office:  # a browser session ends after 12 hours
        assert flag not in visible_text((await office.get(f"/requests/{request.id}")).text)
    clock.advance(hours=2)
    async with signed_in(app, "koordination") as office:
        assert flag in visible_text((await office.get("/requests")).text)
        assert flag in visible_text((await office.get(f"/requests/{request.id}")).text)
