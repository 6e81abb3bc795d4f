"""R2 under load: many pushers and pullers at once; no puller ever skips an acknowledged write.

On PostgreSQL the app runs with a connection pool, so the pushes really overlap in the database;
the per-organisation clock row they lock makes seq order commit order.
"""

import asyncio
from uuid import UUID

from server import sql
from tests.server.sync.conftest import new_id

PUSHERS, PUSHES, BATCH, PULLERS = 6, 6, 10, 3


async def test_concurrent_pushers_and_pullers_lose_nothing(phones):
    pushers = [await phones("lotse1" if n % 2 else "koordination") for n in range(PUSHERS)]
    pullers = [await phones("koordination") for _ in range(PULLERS)]
    acknowledged: set[str] = set()
    done = asyncio.Event()
    histories: list[list[str]] = [[] for _ in pullers]

    async def push(phone):
        for _ in range(PUSHES):
            batch = [phone.mutation("note", new_id(), {"body": "gleichzeitig"}) for _ in range(BATCH)]
            response = await phone.post(batch, cursor=None, limit=1)
            assert response.status_code == 200, response.text
            acknowledged.update(r["id"] for r in response.json()["results"] if r["status"] == "applied")

    async def pull(phone, history):
        while not done.is_set():
            payload = await phone.sync(limit=25)
            history += [c["id"] for c in payload["changes"]]
            await asyncio.sleep(0)
        while True:  # after the last push: drain
            payload = await phone.sync(limit=100)
            history += [c["id"] for c in payload["changes"]]
            if not payload["has_more"]:
                return

    pulling = [asyncio.create_task(pull(phone, history)) for phone, history in zip(pullers, histories, strict=True)]
    await asyncio.gather(*(push(phone) for phone in pushers))
    done.set()
    await asyncio.gather(*pulling)
    assert len(acknowledged) == PUSHERS * PUSHES * BATCH
    for phone, history in zip(pullers, histories, strict=True):
        assert acknowledged <= set(history), f"a puller skipped {len(acknowledged - set(history))} writes"
        assert acknowledged <= {record_id for (_, record_id) in phone.records}


DEVICES, ROUNDS, SHARED = 4, 3, 3


async def test_devices_editing_the_same_records_at_once_lose_no_edit(app, phones):
    """Several devices of one volunteer push edits of the same notes at the same moment, as
    after a meet-up. On PostgreSQL those pushes overlap in the database: each locks the records
    it writes before it plans, so every edit is applied, merged or kept as a conflict, each
    version is written once, and the history has no gap."""
    devices = [await phones("lotse1") for _ in range(DEVICES)]
    ids = [new_id() for _ in range(SHARED)]
    await devices[0].sync(*(devices[0].mutation("note", record_id, {"body": "gemeinsam"}) for record_id in ids))
    answers = []
    for round_ in range(ROUNDS):
        for phone in devices:
            await phone.pull_all()
        responses = await asyncio.gather(*(
            phone.post([phone.mutation("note", record_id, {"body": f"Gerät {n}, Runde {round_}"},
                                       phone.records[("note", record_id)]["version"]) for record_id in ids])
            for n, phone in enumerate(devices)))
        for response in responses:
            assert response.status_code == 200, response.text
            answers += response.json()["results"]
    assert {a["status"] for a in answers} <= {"applied", "merged", "conflict"}
    async with sql.transaction(app.state.engine, write=False) as connection:
        condition, args = connection.one_of("record_id", [connection.uuid(UUID(i)) for i in ids])
        revisions = await connection.fetch(f"SELECT record_id, version FROM revision WHERE {condition}", *args)
        conflicts = (await connection.fetchone(f"SELECT count(*) FROM sync_conflict WHERE {condition}", *args))[0]
        condition, args = connection.one_of("id", [connection.uuid(UUID(i)) for i in ids])
        current = {str(r): v for r, v in await connection.fetch(f"SELECT id, version FROM note WHERE {condition}", *args)}
    for record_id in ids:
        versions = sorted(v for r, v in revisions if str(r) == record_id)
        # each version written once, none lost: two writers that planned on the same version
        # would both have written its successor
        assert versions == list(range(1, current[record_id] + 1)), versions
        acknowledged = {a["version"] for a in answers if a["id"] == record_id and a["status"] in ("applied", "merged")}
        assert acknowledged <= set(versions)
    assert conflicts == sum(a["status"] == "conflict" for a in answers)
