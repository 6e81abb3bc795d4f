"""R2 under load: many pushers and pullers at once; no puller ever skips an acknowledged write.

On PostgreSQL the app runs with a connection pool, so the pushes really overlap in the database;
the per-organisation clock row they lock makes seq order commit order.
"""

import asyncio

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
