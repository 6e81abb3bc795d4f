"""Read-only copies through POST /api/sync (R1–R3): a volunteer's offers and assignments, with
the client's pseudonymous details, and the organisation's events; an offer accepted offline is
a sync mutation, and the first acceptance wins — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from server.accounts.store import update_user
from server.accounts.tables import User
from server.assignments.tables import Assignment
from server.clients import store as clients
from server.events import store as events
from server.organisations.tables import Organisation
from server.requests import store as requests
from server.requests.tables import Offer
from tests.server.sync.conftest import new_id


async def _ids(clock):
    organisation_id = (await Organisation.select(Organisation.id).first())["id"]
    users = {row["username"]: row["id"] for row in await User.select(User.username, User.id)}
    await update_user(users["lotse2"], organisation_id, pledge_signed_on=clock().date())  # both may be offered
    return organisation_id, users


async def _offered(organisation_id, users, clock, **values):
    client_id = await clients.create_client(organisation_id, clock(), alias="Mariam", languages=["fa"], district="Nord",
                                            needs="Termin beim Sozialamt")
    request = await requests.create_request(organisation_id, clock(), source="coordinator", status="matching", language="fa",
                                            purpose="behoerde", place="Sozialamt, Raum 4", client=client_id, **values)
    assert await requests.make_offers(request, organisation_id, [users["lotse1"], users["lotse2"]], clock()) == 2
    offers = {o.volunteer_id: o.id for o in await requests.offers_of_request(request.id, organisation_id)}
    return client_id, request, offers


def _of(phone, entity):
    return {key[1]: fields for key, fields in phone.records.items() if key[0] == entity}


def answer(phone, offer_id, value="accepted"):
    return phone.mutation("offer", offer_id, {"answer": value})


async def test_offers_reach_only_their_volunteer_and_an_offline_accept_wins_once(phones, clock):
    organisation_id, users = await _ids(clock)
    amina, jonas, office = await phones("lotse1"), await phones("lotse2"), await phones("koordination")
    for phone in (amina, jonas, office):
        await phone.pull_all()
    client_id, request, offers = await _offered(organisation_id, users, clock)
    await amina.sync()
    await jonas.sync()
    await office.sync()
    mine = _of(amina, "offer")
    assert str(offers[users["lotse1"]]) in mine and str(offers[users["lotse2"]]) not in mine
    offer = mine[str(offers[users["lotse1"]])]
    assert offer["status"] == "open" and offer["place"] == "Sozialamt, Raum 4" and "client_alias" not in offer
    assert _of(office, "offer") == {}  # coordination reads offers on its own pages

    accepted = await amina.sync(answer(amina, offers[users["lotse1"]]))
    assert accepted["results"][0]["status"] == "applied"
    assert _of(amina, "offer")[str(offers[users["lotse1"]])]["status"] == "accepted"
    [assignment] = _of(amina, "assignment").values()  # in the answer to the same request
    assert assignment["client_alias"] == "Mariam" and assignment["client_languages"] == ["fa"]
    assert assignment["client_needs"] == "Termin beim Sozialamt" and assignment["status"] == "planned"

    late = await jonas.sync(answer(jonas, offers[users["lotse2"]]))
    assert late["results"][0]["status"] == "rejected" and "already taken" in late["results"][0]["reason"]
    assert _of(jonas, "offer")[str(offers[users["lotse2"]])]["status"] == "taken"
    assert _of(jonas, "assignment") == {}

    replay = await amina.post([accepted_mutation := answer(amina, offers[users["lotse1"]])])
    assert replay.json()["results"][0]["status"] == "applied"  # answered again: same answer, nothing new
    assert accepted_mutation["mutation_id"] > 1
    assert await Assignment.count().where(Assignment.request == request.id) == 1

    # The client's details change: the assignment on the phone follows.
    await clients.update_client(client_id, organisation_id, alias="M.", languages=["fa", "de"], district="Nord", needs="",
                                consent_on=None, active=True)
    await amina.sync()
    [assignment] = _of(amina, "assignment").values()
    assert assignment["client_alias"] == "M." and assignment["client_languages"] == ["fa", "de"]


async def test_a_new_phone_gets_its_copies_in_the_first_pull_and_events_reach_everyone(phones, clock):
    organisation_id, users = await _ids(clock)
    _, _, offers = await _offered(organisation_id, users, clock)
    event_id = await events.create_event(organisation_id, clock(), kind="stammtisch", title="Stammtisch im Café",
                                         starts_at=clock() + timedelta(days=3), place="Café Mitte")
    amina, jonas = await phones("lotse1"), await phones("lotse2")
    await amina.pull_all()
    await jonas.pull_all()
    assert set(_of(amina, "offer")) == {str(offers[users["lotse1"]])}
    assert set(_of(jonas, "offer")) == {str(offers[users["lotse2"]])}
    for phone in (amina, jonas):
        assert _of(phone, "event")[str(event_id)]["title"] == "Stammtisch im Café"
    later = await events.create_event(organisation_id, clock(), kind="training", title="Schulung Aufenthaltsrecht",
                                      starts_at=clock() + timedelta(days=9))
    await jonas.sync()
    assert _of(jonas, "event")[str(later)]["kind"] == "training"


async def test_a_cancelled_request_withdraws_its_offers_on_the_phones(phones, clock):
    organisation_id, users = await _ids(clock)
    amina = await phones("lotse1")
    await amina.pull_all()
    _, request, offers = await _offered(organisation_id, users, clock)
    assert await requests.set_status(request.id, organisation_id, "cancelled", clock())
    await amina.sync()
    assert _of(amina, "offer")[str(offers[users["lotse1"]])]["status"] == "withdrawn"
    refused = await amina.sync(answer(amina, offers[users["lotse1"]]))
    assert refused["results"][0]["status"] == "rejected" and "withdrawn" in refused["results"][0]["reason"]


async def test_answers_that_cannot_apply_are_rejected_with_a_reason_and_change_nothing(phones, clock):
    organisation_id, users = await _ids(clock)
    amina, office = await phones("lotse1"), await phones("koordination")
    _, _, offers = await _offered(organisation_id, users, clock)
    mine, theirs = offers[users["lotse1"]], offers[users["lotse2"]]
    results = (await amina.sync(
        answer(amina, theirs), amina.mutation("offer", mine, {"answer": "maybe"}),
        amina.mutation("offer", mine, {"status": "accepted"}), amina.mutation("offer", mine, op="delete"),
        amina.mutation("offer", new_id(), {"answer": "accepted"}),
    ))["results"]
    assert [r["status"] for r in results] == ["rejected"] * 5
    assert "not an offer to you" in results[0]["reason"] and '"answer"' in results[1]["reason"]
    office_answer = (await office.sync(answer(office, mine)))["results"][0]
    assert office_answer["status"] == "rejected" and "volunteer" in office_answer["reason"]
    assert {row["status"] for row in await Offer.select(Offer.status)} == {"open"}
    declined = (await amina.sync(answer(amina, mine, "declined")))["results"][0]
    assert declined["status"] == "applied"
    again = (await amina.sync(answer(amina, mine, "accepted")))["results"][0]
    assert again["status"] == "rejected" and again["reason"] == "already declined"


async def test_two_phones_accepting_through_sync_at_the_same_moment_one_wins(phones, clock):
    organisation_id, users = await _ids(clock)
    amina, jonas = await phones("lotse1"), await phones("lotse2")
    for _ in range(3):
        _, request, offers = await _offered(organisation_id, users, clock)
        outcomes = await asyncio.gather(amina.post([answer(amina, offers[users["lotse1"]])]),
                                        jonas.post([answer(jonas, offers[users["lotse2"]])]))
        statuses = sorted(r.json()["results"][0]["status"] for r in outcomes)
        assert statuses == ["applied", "rejected"]
        assert await Assignment.count().where(Assignment.request == request.id) == 1
