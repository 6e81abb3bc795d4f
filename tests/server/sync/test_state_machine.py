"""Randomised: two phones of one volunteer and a coordinator edit and delete offline, while the
network loses responses, loses requests, delivers twice and replays old requests late.

At the end every device pushes what is left and pulls: every copy equals the server, and every
value anyone saved is in the history of its record (applied or merged) or in a conflict."""

from __future__ import annotations

import asyncio
import json

import msgspec
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from server.app import create_app
from server.notes.tables import Note
from server.settings import Settings
from server.sync_tables import Revision, SyncConflict
from server.visits.tables import VisitLog
from tests.conftest import FakeClock
from tests.server.sync.conftest import new_id, open_phone

WORDS = ["Termin", "Amt", "Pass", "Antrag", "Miete", "Kita", "morgen", "heute"]
FIELDS = {"note": {"body": "text", "shared": "bool"}, "visit_log": {"duration_minutes": "int", "outcome": "text"}}


def value_for(kind, draw_number):
    if kind == "bool":
        return draw_number % 2 == 0
    if kind == "int":
        return draw_number % 240
    return " ".join(WORDS[(draw_number + i) % len(WORDS)] for i in range(1 + draw_number % 4))


class World:
    """The app, its database and an event loop of their own, shared by every example."""

    def __init__(self, settings: Settings):
        self.loop = asyncio.new_event_loop()
        self.clock = FakeClock()
        self.app = create_app(settings, clock=self.clock)
        self.run(self._start())

    def run(self, coroutine):
        return self.loop.run_until_complete(coroutine)

    async def _start(self):
        for hook in self.app.on_startup:
            await hook()

    async def reset(self):
        from server.piccolo_app import TABLES
        from server import demo

        for table in reversed(TABLES):
            await table.delete(force=True)
        await demo.seed(self.clock(), records=False)
        from server.accounts.tables import User

        await User.update({User.pledge_signed_on: self.clock().date()}).where(User.role == "volunteer")

    def close(self):
        for hook in self.app.on_shutdown:
            self.run(hook())
        self.loop.close()


class SyncMachine(RuleBasedStateMachine):
    world: World

    @initialize()
    def start(self):
        self.world.run(self.world.reset())
        self.devices = [self.world.run(open_phone(self.world.app, name)) for name in ("lotse1", "lotse1", "koordination")]
        for device in self.devices:
            device.outbox = []
            device.sent_requests = []
            device.server_copy = {}  # what the server last sent; the screen shows it with the outbox on top
        self.saved = []  # (device index, mutation)
        self.known_ids: list[tuple[str, str]] = []

    def teardown(self):
        for device in getattr(self, "devices", []):
            self.world.run(device.http.__aexit__(None, None, None))

    @precondition(lambda self: len({m["id"] for _, m in self.saved}) < 4)  # few records: edits collide
    @rule(device=st.integers(0, 2), entity=st.sampled_from(sorted(FIELDS)), number=st.integers(0, 10_000))
    def create(self, device, entity, number):
        phone = self.devices[device]
        record_id = new_id()
        fields = {name: value_for(kind, number + i) for i, (name, kind) in enumerate(FIELDS[entity].items())}
        if entity == "visit_log":
            fields["date"] = "2026-03-02"
        mutation = phone.mutation(entity, record_id, fields)
        phone.outbox.append(mutation)
        self.saved.append((device, mutation))

    @rule(device=st.integers(0, 2), pick=st.integers(0, 10_000), number=st.integers(0, 10_000), delete=st.booleans())
    def edit(self, device, pick, number, delete):
        phone = self.devices[device]
        keys = sorted(set(phone.server_copy) | {(m["entity"], m["id"]) for m in phone.outbox if m["op"] == "upsert"})
        keys = [k for k in keys if k[0] in FIELDS]
        if not keys:
            return
        entity, record_id = keys[pick % len(keys)]
        base = phone.server_copy.get((entity, record_id), {}).get("version")  # None: only the pending create
        if delete:
            mutation = phone.mutation(entity, record_id, op="delete", base_version=base)
        else:
            name, kind = sorted(FIELDS[entity].items())[number % len(FIELDS[entity])]
            mutation = phone.mutation(entity, record_id, {name: value_for(kind, number)}, base_version=base)
        phone.outbox.append(mutation)
        self.saved.append((device, mutation))

    @rule(first=st.integers(0, 2), second=st.integers(0, 2), pick=st.integers(0, 10_000), number=st.integers(0, 10_000))
    def both_edit_one_field(self, first, second, pick, number):
        """Two people change the same field of one record while both are offline."""
        a, b = self.devices[first], self.devices[second]
        common = sorted(k for k in set(a.server_copy) & set(b.server_copy) if k[0] in FIELDS)
        if first == second or not common:
            return
        entity, record_id = common[pick % len(common)]
        name, kind = sorted(FIELDS[entity].items())[number % len(FIELDS[entity])]
        for phone, value in ((a, value_for(kind, number)), (b, value_for(kind, number + 1))):
            base = phone.server_copy[(entity, record_id)]["version"]
            mutation = phone.mutation(entity, record_id, {name: value}, base_version=base)
            phone.outbox.append(mutation)
            self.saved.append((self.devices.index(phone), mutation))

    @rule()
    def everyone_online(self):
        """A meet-up: every phone syncs, so the next offline edits start from the same versions."""
        for device in range(len(self.devices)):
            self.sync(device, "delivered")

    @rule(device=st.integers(0, 2), fate=st.sampled_from(["delivered", "delivered", "response lost", "request lost", "twice"]))
    def sync(self, device, fate):
        phone = self.devices[device]
        if fate == "request lost":
            return
        request = list(phone.outbox)
        phone.sent_requests.append(request)
        response = self.world.run(phone.post(request))
        assert response.status_code == 200, response.text
        if fate == "twice":
            response = self.world.run(phone.post(request))
            assert response.status_code == 200, response.text
        if fate == "response lost":
            return
        self._accept(phone, response.json(), request)

    @precondition(lambda self: any(d.sent_requests for d in self.devices))
    @rule(device=st.integers(0, 2), which=st.integers(0, 1000))
    def late_replay(self, device, which):
        """An old request the network held back arrives after newer ones."""
        phone = self.devices[device]
        if not phone.sent_requests:
            return
        old = phone.sent_requests[which % len(phone.sent_requests)]
        response = self.world.run(phone.post(old, cursor=None, limit=1))
        assert response.status_code == 200
        assert all(r["status"] != "rejected" for r in response.json()["results"]), response.text

    def _accept(self, phone, payload, request):
        acked = {r["mutation_id"] for r in payload["results"]}
        assert all(r["status"] != "rejected" for r in payload["results"]), payload["results"]
        phone.outbox = [m for m in phone.outbox if m["mutation_id"] not in acked]
        for change in payload["changes"]:
            key = (change["entity"], change["id"])
            if change["op"] == "upsert":
                phone.server_copy[key] = {**change["fields"], "version": change["version"]}
            else:
                phone.server_copy.pop(key, None)
        phone.cursor = payload["cursor"]
        if payload["has_more"]:
            self._accept(phone, self.world.run(phone.post([])).json(), [])

    @invariant()
    def the_outbox_stays_in_order(self):
        for device in getattr(self, "devices", []):
            ids = [m["mutation_id"] for m in device.outbox]
            assert ids == sorted(ids)

    def check_final(self):
        for _ in range(2):
            for phone in self.devices:
                response = self.world.run(phone.post(list(phone.outbox)))
                assert response.status_code == 200
                self._accept(phone, response.json(), phone.outbox)
        for phone in self.devices:
            while True:
                payload = self.world.run(phone.post([])).json()
                self._accept(phone, payload, [])
                if not payload["has_more"]:
                    break
        owners = [self.world.run(phone.http.get("/api/me")).json()["id"] for phone in self.devices]
        self.world.run(self._check_server(owners))

    async def _check_server(self, owners):
        server = {}
        for entity, table in (("note", Note), ("visit_log", VisitLog)):
            for row in await table.select().where(table.deleted_at.is_null()):
                server[(entity, str(row["id"]))] = row
        for index, phone in enumerate(self.devices):
            role = "coordinator" if index == 2 else "volunteer"
            local = {k: v for k, v in phone.server_copy.items() if k[0] in FIELDS}
            visible = {k for k, row in server.items() if role == "coordinator" or str(row["owner"]) == owners[index]}
            visible = {k for k in visible if role != "coordinator" or k[0] != "note" or server[k]["shared"]
                       or str(server[k]["owner"]) == owners[index]}
            assert set(local) == visible, f"device {index} differs from the server"
            for key in visible:
                assert local[key]["version"] == server[key]["version"]
                for name in FIELDS[key[0]]:
                    assert local[key][name] == server[key][name], (key, name)
        revisions = await Revision.select(Revision.record_id, Revision.version, Revision.fields)
        history: dict[str, list[tuple[int, dict]]] = {}
        for r in revisions:
            history.setdefault(str(r["record_id"]), []).append((r["version"], _json(r["fields"])))
        rows = await SyncConflict.select(SyncConflict.id, SyncConflict.record_id, SyncConflict.field, SyncConflict.client_value)
        conflicts = [(str(c["record_id"]), c["field"], _json(c["client_value"])) for c in rows]
        conflict_ids = {str(c["id"]): (str(c["record_id"]), c["field"]) for c in rows}
        for device, mutation in self.saved:
            if mutation["op"] == "delete":
                continue
            result = await self._result_of(self.devices[device], mutation)
            assert result is not None, "every saved mutation was acknowledged in the end"
            assert result["status"] != "rejected", result
            if result["status"] == "conflict":  # the value not taken is kept where the result says
                assert conflict_ids.get(result["conflict_id"], ("",))[0] == mutation["id"], result
            at_version = dict(history.get(mutation["id"], [])).get(result["version"], {})
            for name, value in mutation["fields"].items():
                written = any(fields.get(name) == value for version, fields in history.get(mutation["id"], [])
                              if version <= result["version"])
                in_conflict = any(
                    rid == mutation["id"] and (field == name and client == value or field == "*" and client.get(name) == value)
                    for rid, field, client in conflicts
                )
                merged = FIELDS[mutation["entity"]].get(name) == "text" and result["status"] in ("merged", "conflict") \
                    and name in at_version
                assert written or in_conflict or merged, f"{name}={value!r} of {mutation} is nowhere: {result}"

    async def _result_of(self, phone, mutation):
        from uuid import UUID

        from server.sync_store import stored_results

        found = await stored_results(Note._meta.db, UUID(phone.device_id), [mutation["mutation_id"]])
        result = found.get(mutation["mutation_id"])
        return msgspec.to_builtins(result) if result else None


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


@pytest.fixture
def world(settings):
    created = World(settings)
    yield created
    created.close()


def test_random_offline_edits_with_a_faulty_network_converge_and_lose_nothing(world):
    class Run(SyncMachine):
        pass

    Run.world = world
    original_teardown = Run.teardown

    def teardown(self):
        if getattr(self, "devices", None):
            self.check_final()
        original_teardown(self)

    Run.teardown = teardown
    Run.TestCase.settings = settings(
        max_examples=40, stateful_step_count=40, deadline=None, derandomize=True, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    Run.TestCase().runTest()
