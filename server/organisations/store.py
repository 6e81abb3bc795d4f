"""Rows of organisations; every organisation query lives here."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec
from piccolo.query.functions.aggregate import Count

from server.accounts.tables import User
from server.organisations.tables import Organisation
from server.events.store import seed_catalogue


class OrganisationRecord(msgspec.Struct, frozen=True):
    id: UUID
    name: str
    created_at: datetime
    users: int = 0


async def create_organisation(name: str, now: datetime) -> UUID:
    organisation = Organisation(name=name.strip(), created_at=now)
    await organisation.save()
    await seed_catalogue(organisation.id)
    return organisation.id


async def find_by_name(name: str) -> UUID | None:
    row = await Organisation.select(Organisation.id).where(Organisation.name == name.strip()).first()
    return row["id"] if row else None


async def get(organisation_id: UUID) -> OrganisationRecord | None:
    row = await Organisation.select().where(Organisation.id == organisation_id).first()
    return OrganisationRecord(id=row["id"], name=row["name"], created_at=row["created_at"]) if row else None


async def list_all() -> list[OrganisationRecord]:
    rows = await Organisation.select().order_by(Organisation.name)
    counts = {
        row["organisation"]: row["count"]
        for row in await User.select(User.organisation, Count()).group_by(User.organisation)
    } if rows else {}
    return [
        OrganisationRecord(id=r["id"], name=r["name"], created_at=r["created_at"], users=counts.get(r["id"], 0))
        for r in rows
    ]


async def count() -> int:
    return await Organisation.count()
