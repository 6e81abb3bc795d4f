"""Rows of organisations; every organisation query lives here."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from server.organisations.tables import Organisation


async def create_organisation(name: str, now: datetime) -> UUID:
    organisation = Organisation(name=name.strip(), created_at=now)
    await organisation.save()
    return organisation.id


async def find_by_name(name: str) -> UUID | None:
    row = await Organisation.select(Organisation.id).where(Organisation.name == name.strip()).first()
    return row["id"] if row else None


async def count() -> int:
    return await Organisation.count()
