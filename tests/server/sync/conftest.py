"""A phone for the sync tests: a device session of one demo account, and a push/pull helper."""

from __future__ import annotations

import itertools
import uuid

import pytest

from tests.conftest import csrf_headers, make_client


class Phone:
    """What the PWA does over HTTP: a device session, an outbox of numbered mutations, a cursor."""

    def __init__(self, http, device_id: str, headers: dict):
        self.http = http
        self.device_id = device_id
        self.headers = headers
        self.cursor = None
        self.numbers = itertools.count(1)
        self.records: dict[tuple[str, str], dict] = {}

    def mutation(self, entity, record_id, fields=None, base_version=None, op="upsert", **extra):
        return {"mutation_id": next(self.numbers), "entity": entity, "id": str(record_id), "op": op,
                "base_version": base_version, "fields": fields or {}, **extra}

    async def post(self, mutations=(), cursor="keep", **extra):
        body = {"device_id": self.device_id, "schema": 1, "cursor": self.cursor if cursor == "keep" else cursor,
                "mutations": list(mutations), **extra}
        return await self.http.post("/api/sync", json=body, headers=self.headers)

    async def sync(self, *mutations, **extra) -> dict:
        response = await self.post(mutations, **extra)
        assert response.status_code == 200, response.text
        payload = response.json()
        self.apply(payload)
        return payload

    def apply(self, payload):
        for change in payload["changes"]:
            key = (change["entity"], change["id"])
            if change["op"] == "upsert":
                self.records[key] = {**change["fields"], "version": change["version"]}
            else:
                self.records.pop(key, None)
        self.cursor = payload["cursor"]

    async def pull_all(self) -> list[dict]:
        changes = []
        while True:
            payload = await self.sync()
            changes += payload["changes"]
            if not payload["has_more"]:
                return changes


async def open_phone(app, username: str, password: str = "demo") -> Phone:
    http = make_client(app)
    await http.__aenter__()
    headers = await csrf_headers(http)
    response = await http.post("/api/session", json={"login": username, "password": password, "device_name": "Handy"}, headers=headers)
    assert response.status_code == 201, response.text
    return Phone(http, response.json()["device_id"], headers)


@pytest.fixture
async def phones(app, demo):
    opened = []

    async def make(username="lotse1"):
        phone = await open_phone(app, username)
        opened.append(phone)
        return phone

    yield make
    for phone in opened:
        await phone.http.__aexit__(None, None, None)


def new_id() -> str:
    return str(uuid.uuid4())
