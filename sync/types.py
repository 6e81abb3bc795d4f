"""Wire types of POST /api/sync (schema 1), and the records the engine plans over.

Every field added later gets a default, so older clients keep decoding (msgspec schema evolution).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

SCHEMA = 1
SUPPORTED_SCHEMAS = frozenset({1})

MutationId = Annotated[int, msgspec.Meta(ge=1, le=2**53)]
Limit = Annotated[int, msgspec.Meta(ge=1, le=1000)]


class Strict(msgspec.Struct, forbid_unknown_fields=True):
    """Unknown fields are an error, not silently ignored."""


class Mutation(Strict):
    mutation_id: MutationId
    entity: str  # checked per mutation, so an unknown entity rejects only this mutation (R9)
    id: UUID
    op: Literal["upsert", "delete"]
    base_version: Annotated[int, msgspec.Meta(ge=0)] | None = None
    fields: dict[str, Any] = {}
    client_time: datetime | None = None
    resolves: list[UUID] = []  # conflicts this edit closes (R14)


class SyncRequest(Strict):
    device_id: UUID
    schema: int
    cursor: str | None = None
    mutations: list[Mutation] = []
    limit: Limit | None = None


Status = Literal["applied", "merged", "conflict", "rejected"]


class Result(msgspec.Struct, omit_defaults=True):
    mutation_id: int
    id: UUID
    status: Status
    version: int | None = None
    conflict_id: UUID | None = None
    reason: str | None = None


class Change(msgspec.Struct):
    entity: str
    id: UUID
    op: Literal["upsert", "delete", "removed"]
    version: int
    fields: dict[str, Any]


class SyncResponse(msgspec.Struct):
    results: list[Result]
    changes: list[Change]
    cursor: str | None
    has_more: bool
    server_time: datetime
    reset_required: bool = False


class Record(msgspec.Struct):
    """A synced row as the engine sees it: sync fields, user fields, and who changed what when."""

    entity: str
    id: UUID
    organisation_id: UUID
    owner_id: UUID
    version: int
    fields: dict[str, Any]
    field_versions: dict[str, int]  # field -> version of its last change (R6); unlisted: 1, the create
    field_authors: dict[str, str]  # field -> "user:device" of its last writer; unlisted: the one under ""
    deleted: bool = False
    seq: int = 0  # the change-log position of its latest change


class Actor(msgspec.Struct, frozen=True):
    user_id: UUID
    organisation_id: UUID
    role: str  # volunteer | coordinator
    device_id: UUID | None = None


class Conflict(msgspec.Struct):
    """A value that could not be taken; kept until a person resolves it (R6, R7, R14)."""

    id: UUID
    entity: str
    record_id: UUID
    field: str  # "*" for an edit that met a tombstone: value holds every field sent
    base_version: int | None
    server_value: Any
    server_author: str | None
    client_value: Any
    client_author: UUID
    client_device: UUID | None


class Revision(msgspec.Struct):
    """One change of one record (R13): the audit trail and the merge base of text fields."""

    entity: str
    record_id: UUID
    version: int
    op: str  # create | update | delete | restore
    fields: dict[str, Any]  # the values written, for the fields this revision changed
    actor: UUID
    device: UUID | None
    client_time: datetime | None
