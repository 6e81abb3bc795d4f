"""A server killed with SIGKILL in the middle of pushes loses nothing it acknowledged (DESIGN §7).

A phone pushes notes through /api/sync to a real `lotsenbuch serve` on a SQLite file, without
pause, while the server is killed at a random moment, fifty times. After every kill the file passes
`PRAGMA integrity_check` and holds every note the server answered `applied`; the phone then sends
what was not acknowledged again, as its outbox does, and at the end the server has every note
exactly once.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
import uuid

import httpx

from tests.server.live import LiveServer, sign_in_device

CYCLES = 50
BATCH = 5


class Phone:
    """An outbox of numbered note creations, and the ids the server acknowledged."""

    def __init__(self, http: httpx.Client, device_id: str, headers: dict):
        self.http, self.device_id, self.headers = http, device_id, headers
        self.next_mutation = 1
        self.outbox: list[dict] = []
        self.acknowledged: set[str] = set()
        self.failures: list[str] = []

    def _fill(self) -> None:
        while len(self.outbox) < BATCH:
            self.outbox.append({"mutation_id": self.next_mutation, "entity": "note", "id": str(uuid.uuid4()),
                                "op": "upsert", "fields": {"body": f"Notiz {self.next_mutation}"}})
            self.next_mutation += 1

    def push_once(self) -> bool:
        """One push of the oldest waiting notes; False when the server is gone."""
        self._fill()
        batch = self.outbox[:BATCH]
        body = {"device_id": self.device_id, "schema": 1, "cursor": None, "mutations": batch, "limit": 1}
        try:
            response = self.http.post("/api/sync", json=body, headers=self.headers)
        except httpx.TransportError:
            return False
        if response.status_code != 200:
            self.failures.append(f"{response.status_code} {response.text[:200]}")
            return False
        results = response.json()["results"]
        if [r["status"] for r in results] != ["applied"] * len(batch):
            self.failures.append(str(results))
            return False
        self.acknowledged.update(r["id"] for r in results)
        del self.outbox[:len(batch)]
        return True

    def push_until_gone(self) -> None:
        while self.push_once():
            pass


def _check_file(path, acknowledged: set[str]) -> None:
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        stored = {row[0] for row in connection.execute("SELECT id FROM note")}
    finally:
        connection.close()
    assert acknowledged <= stored, f"{len(acknowledged - stored)} acknowledged notes lost"


def test_acknowledged_mutations_survive_fifty_sigkills(tmp_path):
    server = LiveServer(tmp_path)
    server.prepare()
    chance = random.Random(8)
    with server, httpx.Client(base_url=server.base_url, timeout=10) as http:
        server.start()
        phone = Phone(http, *sign_in_device(http))
        demo_notes = len(_check_file_ids(server.sqlite_file))
        for _ in range(CYCLES):
            pusher = threading.Thread(target=phone.push_until_gone)
            pusher.start()
            time.sleep(chance.uniform(0.01, 0.25))
            server.kill()
            pusher.join(timeout=30)
            assert not pusher.is_alive() and phone.failures == []
            _check_file(server.sqlite_file, phone.acknowledged)
            server.start()
        while phone.outbox:  # the phone's outbox goes out again after the last restart
            assert phone.push_once(), phone.failures
        sent = phone.next_mutation - 1
        ids = _check_file_ids(server.sqlite_file)
        assert len(ids) - demo_notes == sent == len(phone.acknowledged)
        assert sent > CYCLES * BATCH  # pushes really ran between the kills


def _check_file_ids(path) -> list[str]:
    connection = sqlite3.connect(path)
    try:
        return [row[0] for row in connection.execute("SELECT id FROM note")]
    finally:
        connection.close()
