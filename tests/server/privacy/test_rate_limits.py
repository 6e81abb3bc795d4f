"""Rate limits with Retry-After, counted in the database (so every worker shares them): sync per
device, invitation links tried in vain per address, invitations made per person."""

from __future__ import annotations

from server.accounts import throttle
from server.accounts.tables import Throttle
from tests.conftest import csrf_headers, make_client, signed_in
from tests.server.accounts.test_invitations import create_volunteer, invitation
from tests.server.sync.conftest import new_id, open_phone


async def test_sync_is_limited_per_device_and_says_when_to_come_back(app, demo, clock):
    phone = await open_phone(app, "koordination")
    other = await open_phone(app, "koordination")
    allowed, window = app.state.settings.sync_pushes_per_minute, throttle.SYNC_WINDOW
    for n in range(allowed):  # pushes count; a pull reads and takes no lock
        assert (await phone.post([phone.mutation("note", new_id(), {"body": f"Notiz {n}"})])).status_code == 200
    assert (await phone.post([phone.mutation("note", new_id(), {"body": "eine zu viel"})])).status_code == 429
    refused = await phone.post()  # and pulls are refused too, until the window ends
    assert refused.status_code == 429
    assert 0 < int(refused.headers["retry-after"]) <= window.total_seconds()
    assert refused.json()["status"] == 429 and refused.json()["error"]
    assert (await other.post()).status_code == 200  # another device has its own count
    assert await Throttle.exists().where(Throttle.key == f"sync:{phone.device_id}")  # in the database, not in memory
    clock.advance(seconds=window.total_seconds() + 1)
    assert (await phone.post()).status_code == 200
    for opened in (phone, other):
        await opened.http.__aexit__(None, None, None)


async def test_guessing_invitation_links_is_blocked_per_address_with_retry_after(app, demo, clock):
    async with signed_in(app, "koordination") as office:
        link = await invitation(office, await create_volunteer(office))
    async with make_client(app) as guesser:
        for n in range(throttle.LIMITS["invite"]):
            assert (await guesser.get(f"/invite/guess-{n}")).status_code == 404
        blocked = await guesser.get(link)  # even the right link waits now: guesses cannot be told from it
        assert blocked.status_code == 429 and 0 < int(blocked.headers["retry-after"]) <= throttle.BLOCK.total_seconds()
        headers = await csrf_headers(guesser)
        assert (await guesser.post(link, data={"password": "x"}, headers=headers)).status_code == 429
        clock.advance(seconds=throttle.BLOCK.total_seconds() + 1)
        assert (await guesser.get(link)).status_code == 200


async def test_making_invitation_links_is_limited_per_person(app, demo):
    allowed, window = throttle.INVITATIONS_MADE
    async with signed_in(app, "koordination") as office:
        volunteer = await create_volunteer(office)
        headers = await csrf_headers(office)
        for _ in range(allowed):
            assert (await office.post(f"/volunteers/{volunteer}/invite", data={"purpose": "invite"}, headers=headers)).status_code == 200
        refused = await office.post(f"/volunteers/{volunteer}/invite", data={"purpose": "invite"}, headers=headers)
        assert refused.status_code == 429 and 0 < int(refused.headers["retry-after"]) <= window.total_seconds()
