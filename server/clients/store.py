"""Clients <-> their records; every query is limited to one organisation."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID, uuid4

import msgspec

from server import sql, sync_store
from server.clients.tables import Client


class ClientRecord(msgspec.Struct, frozen=True):
    id: UUID
    alias: str
    languages: list[str]
    district: str
    needs: str
    consent_on: date | None
    active: bool


def _record(row: dict) -> ClientRecord:
    return ClientRecord(
        id=row["id"], alias=row["alias"], district=row["district"], needs=row["needs"], consent_on=row["consent_on"],
        active=row["active"], languages=sql.json_value(row["languages"], []),
    )


async def list_clients(organisation_id: UUID, active_only: bool = False) -> list[ClientRecord]:
    query = Client.select().where((Client.organisation == organisation_id) & Client.erased_at.is_null()).order_by(Client.alias)
    if active_only:
        query = query.where(Client.active == True)  # noqa: E712
    return [_record(row) for row in await query]


async def get_client(client_id: UUID, organisation_id: UUID) -> ClientRecord | None:
    row = await Client.select().where(
        (Client.id == client_id) & (Client.organisation == organisation_id) & Client.erased_at.is_null()).first()
    return _record(row) if row else None


async def create_client(organisation_id: UUID, now: datetime, **values: object) -> UUID:
    client_id = uuid4()
    await Client.insert(Client(id=client_id, organisation=organisation_id, created_at=now, **values))
    return client_id


async def update_client(client_id: UUID, organisation_id: UUID, *, alias: str, languages: list[str], district: str,
                        needs: str, consent_on: date | None, active: bool) -> bool:
    """Change a client; the assignments that show them on volunteers' phones follow (R2)."""
    async with sql.transaction(Client._meta.db, write=True) as connection:
        uuid = connection.uuid
        updated = await connection.fetch(
            "UPDATE client SET alias = ?, languages = ?, district = ?, needs = ?, consent_on = ?, active = ? "
            "WHERE id = ? AND organisation = ? AND erased_at IS NULL RETURNING id",
            alias, msgspec.json.encode(languages).decode(), district, needs, connection.day(consent_on), active,
            uuid(client_id), uuid(organisation_id))
        if updated:
            shown = await connection.fetch("SELECT id FROM assignment WHERE client = ?", uuid(client_id))
            await sync_store.touch(connection, organisation_id, [("assignment", sql.uuid_value(row[0])) for row in shown])
    return bool(updated)
