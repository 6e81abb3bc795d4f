"""Web Push through a fake push service on 127.0.0.1: what is sent, to whom, and what happens
when the service says no — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json

import pytest

from server import sql
from server.accounts.tables import User
from server.clients import store as clients
from server.events import store as events
from server.messages import store as messages
from server.organisations.tables import Organisation
from server.push.sender import MAX_PLAINTEXT, Sender, TooLarge, payload
from server.push.store import current_key, rotate
from server.push.tables import PushAlert, PushSubscription
from server.requests import store as requests
from tests.conftest import csrf_headers, signed_in
from tests.server.push.fake_push import FakePushService


@pytest.fixture
def service():
    fake = FakePushService()
    yield fake
    fake.close()


async def _ids():
    organisation_id = (await Organisation.select(Organisation.id).first())["id"]
    users = {row["username"]: row["id"] for row in await User.select(User.username, User.id)}
    return organisation_id, users


async def _subscribe(app, username: str, phone) -> None:
    async with signed_in(app, username) as browser:
        answer = await browser.post("/api/push/subscriptions", json=phone.subscription(), headers=await csrf_headers(browser))
        assert answer.status_code == 201, answer.text


async def _offer(clock):
    organisation_id, users = await _ids()
    client_id = await clients.create_client(organisation_id, clock(), alias="Mariam", languages=["fa"], district="Nord")
    request = await requests.create_request(organisation_id, clock(), source="coordinator", status="matching", language="fa",
                                            purpose="arzt", place="Praxis Dr. Yilmaz, Gartenstraße 5", client=client_id)
    await requests.make_offers(request, organisation_id, [users["lotse1"]], clock())


def _sender(app, clock):
    return Sender(app.state.engine, clock, subject="https://lotsenbuch.example")


async def test_an_offer_reaches_the_phone_encrypted_signed_and_naming_nobody(app, demo, clock, service):
    await _subscribe(app, "lotse1", service.phone("amina"))
    await _offer(clock)
    assert await PushAlert.count().where(PushAlert.kind == "offer") == 1  # written with the offer
    assert await _sender(app, clock).send_due() == 1
    assert service.errors == []
    [delivery] = service.deliveries
    assert delivery.payload == {"title": "Lotsenbuch", "body": "Sie haben eine neue Anfrage für eine Begleitung.",
                                "url": "/offers", "tag": "offer"}
    assert delivery.headers["urgency"] == "normal" and delivery.headers["topic"] == "offer"
    assert int(delivery.headers["ttl"]) == 2 * 86400
    assert delivery.claims["aud"] == service.base and delivery.claims["sub"] == "https://lotsenbuch.example"
    plaintext = json.dumps(delivery.payload, ensure_ascii=False)
    assert "Mariam" not in plaintext and "Yilmaz" not in plaintext and "Gartenstraße" not in plaintext
    done = await PushAlert.select(PushAlert.done_at, PushAlert.attempts).first()
    assert done["done_at"] is not None and done["attempts"] == 1
    assert (await PushSubscription.select(PushSubscription.last_success_at).first())["last_success_at"] is not None
    assert await _sender(app, clock).send_due() == 0  # nothing twice


@pytest.mark.parametrize("status", [404, 410])
async def test_a_subscription_the_service_no_longer_knows_is_deleted(app, demo, clock, service, status):
    phone = service.phone("gone")
    await _subscribe(app, "lotse1", phone)
    service.answers["/push/gone"] = [(status, {})]
    await _offer(clock)
    await _sender(app, clock).send_due()
    assert await PushSubscription.count() == 0
    assert (await PushAlert.select(PushAlert.done_at).first())["done_at"] is not None


async def test_429_waits_as_long_as_retry_after_says_and_500_is_retried(app, demo, clock, service):
    await _subscribe(app, "lotse1", service.phone("busy"))
    service.answers["/push/busy"] = [(429, {"Retry-After": "600"}), (500, {})]
    await _offer(clock)
    sender = _sender(app, clock)
    await sender.send_due()
    alert = await PushAlert.select(PushAlert.due_at, PushAlert.attempts, PushAlert.done_at).first()
    assert alert["done_at"] is None and alert["attempts"] == 1
    assert (alert["due_at"] - clock()).total_seconds() >= 600
    clock.advance(seconds=599)
    assert await sender.send_due() == 0  # not before Retry-After
    clock.advance(seconds=2)
    await sender.send_due()  # 500: again later, with backoff
    assert service.deliveries == []
    clock.advance(seconds=60)
    await sender.send_due()
    assert len(service.deliveries) == 1
    assert (await PushAlert.select(PushAlert.attempts, PushAlert.done_at).first())["attempts"] == 3


async def test_a_sender_that_dies_mid_queue_leaves_every_alert_to_the_next(app, demo, clock, service):
    organisation_id, users = await _ids()
    await _subscribe(app, "lotse1", service.phone("amina"))
    await _offer(clock)
    await messages.send(organisation_id, users["koordination"], "Sprechzeiten", "Neu ab Montag", messages.Audience(), clock())
    await events.create_event(organisation_id, clock(), kind="stammtisch", title="Stammtisch", starts_at=clock())
    dead = _sender(app, clock)
    claimed = await dead._claim(clock())  # claims the batch, then the process is killed
    assert len(claimed) == 5  # the offer to Amina; the message and the event to both volunteers
    survivor = _sender(app, clock)
    assert await survivor.send_due() == 0  # leased to the dead one for a minute
    clock.advance(seconds=61)
    assert await survivor.send_due() == 5
    assert sorted(d.payload["tag"] for d in service.deliveries) == ["event", "message", "offer"]


async def test_a_newer_alert_of_the_same_topic_replaces_one_not_yet_sent(app, demo, clock, service):
    organisation_id, users = await _ids()
    await _subscribe(app, "lotse1", service.phone("amina"))
    for subject in ("Eins", "Zwei", "Drei"):
        await messages.send(organisation_id, users["koordination"], subject, "Text", messages.Audience(), clock())
    assert await PushAlert.count().where(PushAlert.user == users["lotse1"]) == 1
    await _sender(app, clock).send_due()
    assert len(service.deliveries) == 1


def test_a_payload_over_the_size_a_push_carries_is_refused_before_sending():
    assert len(payload("offer", "/offers", "de")) < MAX_PLAINTEXT
    with pytest.raises(TooLarge):
        payload("offer", "/" + "x" * MAX_PLAINTEXT, "de")


async def test_subscriptions_are_checked_one_per_device_and_the_key_is_served(app, demo, clock, service):
    phone = service.phone("amina")
    async with signed_in(app, "lotse1") as browser:
        headers = await csrf_headers(browser)
        key = (await browser.get("/api/push/key")).json()["public_key"]
        assert key == (await current_key(clock())).public_key
        bad = {**phone.subscription(), "endpoint": "http://push.example/x"}
        answer = await browser.post("/api/push/subscriptions", json=bad, headers=headers)
        assert answer.status_code == 400 and "https" in answer.json()["error"]
        broken = {"endpoint": phone.endpoint, "keys": {"p256dh": "AAAA", "auth": "AAAA"}}
        assert (await browser.post("/api/push/subscriptions", json=broken, headers=headers)).status_code == 400
        assert await PushSubscription.count() == 0
        for _ in range(2):  # the same device subscribing again keeps one subscription
            assert (await browser.post("/api/push/subscriptions", json=phone.subscription(), headers=headers)).status_code == 201
        assert await PushSubscription.count() == 1
        gone = await browser.request("DELETE", "/api/push/subscriptions", json={"endpoint": phone.endpoint}, headers=headers)
        assert gone.status_code == 204 and await PushSubscription.count() == 0
    await _subscribe(app, "lotse1", phone)
    await rotate(clock())  # a new key: old subscriptions cannot be used, phones subscribe again
    assert await PushSubscription.count() == 0 and (await current_key(clock())).public_key != key


async def test_a_returned_visit_log_alerts_its_author(app, demo, clock, service):
    from tests.server.sync.conftest import new_id, open_phone

    await _subscribe(app, "lotse1", service.phone("amina"))
    phone = await open_phone(app, "lotse1")
    log = new_id()
    await phone.sync(phone.mutation("visit_log", log, {"date": "2026-03-02", "place_type": "jobcenter", "status": "submitted"}))
    async with signed_in(app, "koordination") as office:
        answer = await office.post(f"/review/{log}", data={"decision": "return", "comment": "Bitte km ergänzen."},
                                   headers=await csrf_headers(office))
        assert answer.status_code == 303
    await _sender(app, clock).send_due()
    [delivery] = service.deliveries
    assert delivery.payload["tag"] == "returned" and delivery.payload["url"] == f"/visits/form?id={log}"
    assert "km" not in delivery.payload["body"]
    await phone.http.__aexit__(None, None, None)


async def test_many_alerts_go_out_concurrently(app, demo, clock, service):
    organisation_id, users = await _ids()
    await _subscribe(app, "lotse1", service.phone("amina"))
    await asyncio.gather(*(events.create_event(organisation_id, clock(), kind="training", title=f"T{n}", starts_at=clock())
                           for n in range(3)))
    assert await _sender(app, clock).send_due() >= 1


def test_quiet_hours_move_an_alert_to_their_end_in_berlin_time():
    from datetime import UTC, datetime

    from server.push.store import after_quiet

    evening = datetime(2026, 3, 2, 22, 30, tzinfo=UTC)  # 23:30 in Berlin
    assert after_quiet(evening, "22:00", "07:00") == datetime(2026, 3, 3, 6, 0, tzinfo=UTC)  # 07:00 in Berlin
    early = datetime(2026, 3, 3, 4, 0, tzinfo=UTC)  # 05:00 in Berlin
    assert after_quiet(early, "22:00", "07:00") == datetime(2026, 3, 3, 6, 0, tzinfo=UTC)
    noon = datetime(2026, 3, 3, 11, 0, tzinfo=UTC)
    assert after_quiet(noon, "22:00", "07:00") == noon and after_quiet(noon, "12:00", "12:00") == noon
    assert after_quiet(noon, "11:30", "14:00") == datetime(2026, 3, 3, 13, 0, tzinfo=UTC)  # a midday rest, same day


async def test_a_user_chooses_which_alerts_and_when_and_nothing_comes_at_night_unless_urgent(app, demo, clock, service):
    from datetime import UTC, datetime

    organisation_id, users = await _ids()
    async with signed_in(app, "lotse1") as amina:
        headers = await csrf_headers(amina)
        page = await amina.get("/alerts")
        assert page.status_code == 200 and 'name="wanted" value="message"' in page.text
        wrong = await amina.post("/alerts", data={"quiet_from": "25:00", "quiet_until": "07:00", "wanted": ["offer"]},
                                 headers=headers)
        assert wrong.status_code == 400 and "25:00" in wrong.text  # what was typed stays
        kept = ["offer", "assignment_soon"]
        saved = await amina.post("/alerts", data={"quiet_from": "21:00", "quiet_until": "08:00", "wanted": kept}, headers=headers)
        assert saved.status_code == 303
        page = await amina.get("/alerts")
        assert 'value="21:00"' in page.text and 'id="kind-message" name="wanted" value="message">' in page.text
    await messages.send(organisation_id, users["koordination"], "Hallo", "Text", messages.Audience(), clock())
    assert await PushAlert.count().where(PushAlert.user == users["lotse1"]) == 0  # messages switched off
    clock.current = datetime(2026, 3, 2, 21, 30, tzinfo=UTC)  # 22:30 in Berlin: quiet
    await _offer(clock)
    alert = await PushAlert.select(PushAlert.due_at).where(PushAlert.user == users["lotse1"]).first()
    assert alert["due_at"] == datetime(2026, 3, 3, 7, 0, tzinfo=UTC)  # 08:00 in Berlin


async def test_reminders_come_once_the_evening_before_two_hours_ahead_and_for_waiting_offers(app, demo, clock, service):
    from datetime import UTC, date, datetime, timedelta

    from server.assignments.tables import Assignment
    from server.push import reminders

    organisation_id, users = await _ids()
    await _subscribe(app, "lotse1", service.phone("amina"))
    clock.current = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # Monday 09:00 in Berlin
    await _offer(clock)
    [offer] = await requests.offers_of_request((await requests.list_requests(organisation_id))[0].id, organisation_id)
    assert await requests.answer_offer(offer.id, users["lotse1"], organisation_id, True, clock()) == "accepted"
    await Assignment.update({Assignment.day: date(2026, 3, 3), Assignment.start_time: "10:00"}).where(
        Assignment.volunteer == users["lotse1"])
    await _offer(clock)  # a second offer, left unanswered
    await PushAlert.delete(force=True)
    sender = _sender(app, clock)

    clock.current = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)  # 17:00: not yet evening
    await reminders.plan(app.state.engine, clock())
    assert await PushAlert.count() == 0
    clock.current = datetime(2026, 3, 2, 17, 30, tzinfo=UTC)  # 18:30
    for _ in range(2):  # planned twice (or by two workers): sent once
        await reminders.plan(app.state.engine, clock())
    await sender.send_due()
    assert [d.payload["tag"] for d in service.deliveries] == ["assignment_tomorrow"]
    clock.current = datetime(2026, 3, 3, 8, 5, tzinfo=UTC)  # Tuesday 09:05: 55 minutes before 10:00; the offer a day old
    await reminders.plan(app.state.engine, clock())
    await reminders.plan(app.state.engine, clock() + timedelta(minutes=5))
    await sender.send_due()
    assert sorted(d.payload["tag"] for d in service.deliveries) == ["assignment_soon", "assignment_tomorrow", "offer_reminder"]
    soon = next(d for d in service.deliveries if d.payload["tag"] == "assignment_soon")
    assert soon.headers["urgency"] == "high" and soon.payload["url"].startswith("/assignments/")


async def test_two_senders_share_the_queue_and_send_each_alert_once(app, demo, clock, service):
    organisation_id, users = await _ids()
    await _subscribe(app, "lotse1", service.phone("amina"))
    async with sql.transaction(app.state.engine, write=True) as connection:
        from server.push.store import enqueue

        for n in range(40):  # forty reminders, each its own alert
            await enqueue(connection, organisation_id, [users["lotse1"]], "event_reminder", f"/events/{n}", clock(), key=f"t:{n}")
    first, second = _sender(app, clock), _sender(app, clock)
    claimed = await asyncio.gather(first.send_due(), second.send_due(), first.send_due(), second.send_due())
    assert sum(claimed) == 40
    assert sorted(d.payload["url"] for d in service.deliveries) == sorted(f"/events/{n}" for n in range(40))


def test_no_alert_of_any_kind_carries_more_than_a_generic_sentence_and_a_link():
    from server.i18n import LOCALES, gettext
    from server.push.alerts import ALERTS

    for kind, (sentence, _, _) in ALERTS.items():
        for locale in LOCALES:
            data = json.loads(payload(kind, "/offers", locale))
            assert set(data) == {"title", "body", "url", "tag"} and data["tag"] == kind
            assert data["body"] == gettext(locale, sentence) and data["title"] == "Lotsenbuch"
