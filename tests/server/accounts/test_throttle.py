"""Sign-in throttling: per account and per address, temporary, and the same whether an account exists."""

import pytest

from server.accounts.throttle import client_address
from tests.conftest import csrf_headers


async def attempt(client, login, password="wrong", forwarded=None):
    headers = await csrf_headers(client)
    if forwarded:
        headers["x-forwarded-for"] = forwarded
    return await client.post("/login", data={"login": login, "password": password}, headers=headers)


@pytest.mark.parametrize("login", ["lotse1", "niemand"])
async def test_five_failures_block_the_account_for_a_while_only(client, demo, clock, login):
    statuses = [(await attempt(client, login)).status_code for _ in range(5)]
    assert statuses == [401] * 5
    blocked = await attempt(client, login, "demo")
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["retry-after"]) <= 15 * 60
    assert "Zu viele Versuche" in blocked.text
    clock.advance(minutes=15, seconds=1)
    expected = 303 if login == "lotse1" else 401
    assert (await attempt(client, login, "demo")).status_code == expected


async def test_a_success_resets_the_account_counter(client, demo):
    for _ in range(4):
        await attempt(client, "lotse1")
    assert (await attempt(client, "lotse1", "demo")).status_code == 303
    for _ in range(4):
        assert (await attempt(client, "lotse1")).status_code == 401


async def test_many_failures_from_one_address_block_that_address(client, demo, clock):
    for number in range(30):
        await attempt(client, f"guess{number}")
    assert (await attempt(client, "lotse2", "demo")).status_code == 429
    clock.advance(minutes=16)
    assert (await attempt(client, "lotse2", "demo")).status_code == 303


async def test_the_json_api_is_throttled_too(client, demo):
    headers = await csrf_headers(client)
    for _ in range(5):
        await client.post("/api/session", json={"login": "lotse1", "password": "x"}, headers=headers)
    response = await client.post("/api/session", json={"login": "lotse1", "password": "demo"}, headers=headers)
    assert response.status_code == 429 and "retry-after" in response.headers


def scope(peer, forwarded=None):
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return {"client": (peer, 1234), "headers": headers}


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "expected"),
    [
        ("203.0.113.5", "198.51.100.1", (), "203.0.113.5"),  # no proxy trusted: the header is ignored
        ("203.0.113.5", "198.51.100.1", ("10.0.0.0/8",), "203.0.113.5"),  # not from the proxy: ignored
        ("10.0.0.2", "198.51.100.1", ("10.0.0.0/8",), "198.51.100.1"),
        ("10.0.0.2", "1.1.1.1, 198.51.100.1", ("10.0.0.0/8",), "198.51.100.1"),  # a spoofed left part is ignored
        ("10.0.0.2", "198.51.100.1, 10.0.0.3", ("10.0.0.0/8",), "198.51.100.1"),  # two proxies
        ("10.0.0.2", "not-an-address", ("10.0.0.0/8",), "10.0.0.2"),
        ("10.0.0.2", None, ("10.0.0.0/8",), "10.0.0.2"),
    ],
)
def test_the_real_client_address_behind_a_trusted_proxy(peer, forwarded, trusted, expected):
    assert client_address(scope(peer, forwarded), trusted) == expected
