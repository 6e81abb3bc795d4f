"""What each synced entity holds, who may write which field, and how a sent value is checked (R8, R10)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from sync.types import Actor, Mutation, Record

TIME_OF_DAY = r"^([01]\d|2[0-3]):[0-5]\d$"  # HH:MM, 00:00 to 23:59
TEXT_LIMIT = 20_000  # characters per free-text field (R10)
MUTATION_LIMIT = 500  # mutations per push (R10)

PLACE_TYPES = (
    "auslaenderbehoerde", "jobcenter", "sozialamt", "arztpraxis", "krankenhaus", "kita_schule", "wohnungsamt",
    "beratungsstelle", "sonstiges",
)
VOLUNTEER_STATUSES = ("draft", "submitted")
REVIEW_STATUSES = ("approved", "returned")
HELP_KINDS = ("legal", "health", "crisis", "child_protection")  # beyond a volunteer's limits: professional help
HELP_REASON_LIMIT = 1000
Text = Annotated[str, msgspec.Meta(max_length=TEXT_LIMIT)]
Short = Annotated[str, msgspec.Meta(max_length=200)]
Topic = Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
EVERYONE = frozenset({"volunteer", "coordinator"})
COORDINATION = frozenset({"coordinator"})


class Field(msgspec.Struct, frozen=True):
    type: Any
    kind: Literal["text", "value", "set"] = "value"  # how concurrent edits merge (R6)
    writers: frozenset[str] = EVERYONE


ENTITIES: dict[str, dict[str, Field]] = {
    "note": {
        "body": Field(Text, "text"),
        "shared": Field(bool),  # shared with coordination, or private to its author
        "client_id": Field(UUID | None),
        "assignment_id": Field(UUID | None),
    },
    "visit_log": {
        "assignment_id": Field(UUID | None),
        "client_id": Field(UUID | None),
        "date": Field(date),
        "start_time": Field(Annotated[str, msgspec.Meta(pattern=TIME_OF_DAY)] | None),
        "duration_minutes": Field(Annotated[int, msgspec.Meta(ge=0, le=24 * 60)]),
        "place_type": Field(Literal[PLACE_TYPES]),  # type: ignore[valid-type]
        "place_name": Field(Short),
        "topics": Field(Annotated[list[Topic], msgspec.Meta(max_length=20)], "set"),
        "outcome": Field(Text, "text"),
        "follow_up_needed": Field(bool),
        "follow_up_text": Field(Text, "text"),
        "follow_up_due": Field(date | None),
        "travel_km": Field(Annotated[float, msgspec.Meta(ge=0, le=5000)]),
        "expenses_cents": Field(Annotated[int, msgspec.Meta(ge=0, le=10_000_000)]),
        "status": Field(Literal["draft", "submitted", "approved", "returned"]),
        "coordinator_comment": Field(Text, "text", COORDINATION),
        "directory_entry_id": Field(UUID | None),
        "help_kind": Field(Literal[("", *HELP_KINDS)]),  # type: ignore[valid-type]
        "help_reason": Field(Annotated[str, msgspec.Meta(max_length=HELP_REASON_LIMIT)], "text"),
    },
}
DEFAULTS: dict[str, dict[str, Any]] = {
    "note": {"body": "", "shared": True, "client_id": None, "assignment_id": None},
    "visit_log": {
        "assignment_id": None, "client_id": None, "date": None, "start_time": None, "duration_minutes": 0,
        "place_type": "sonstiges", "place_name": "", "topics": [], "outcome": "", "follow_up_needed": False,
        "follow_up_text": "", "follow_up_due": None, "travel_km": 0.0, "expenses_cents": 0, "status": "draft",
        "coordinator_comment": "", "directory_entry_id": None, "help_kind": "", "help_reason": "",
    },
}
# Read-only copies (R1): written by the server only, shown to whom they belong.
FEED_OWN = frozenset({"offer", "assignment"})  # to their volunteer alone
FEED_ALL = frozenset({"event", "directory_entry", "howto"})  # to everyone of the organisation
SERVER_ONLY = frozenset({"id", "owner_id", "organisation_id", "version", "seq", "deleted", "created_at", "updated_at"})


class Rejected(Exception):
    """A mutation that can never apply; the reason goes back to the client (R9)."""


class LimitExceeded(Exception):
    """A push over an explicit limit (R10): the whole request is refused with 413."""

    def __init__(self, limit: str, value: int):
        super().__init__(f"{limit} is {value}")
        self.limit = limit
        self.value = value


def check_limits(mutations: list[Mutation]) -> None:
    if len(mutations) > MUTATION_LIMIT:
        raise LimitExceeded("mutations_per_push", MUTATION_LIMIT)
    for mutation in mutations:
        for value in mutation.fields.values():
            if isinstance(value, str) and len(value) > TEXT_LIMIT:
                raise LimitExceeded("characters_per_text_field", TEXT_LIMIT)


# One struct per entity converts all sent fields in one call: fast, and exact about unknown names.
_SHAPES = {
    entity: msgspec.defstruct(
        f"{entity}_fields", [(name, field.type | msgspec.UnsetType, msgspec.UNSET) for name, field in spec.items()],
        forbid_unknown_fields=True,
    )
    for entity, spec in ENTITIES.items()
}


def _holds_text(field_type: Any) -> bool:
    """A free string, or a list of them; a Literal's strings are fixed and need no NUL check."""
    info = msgspec.inspect.type_info(field_type)
    for kind in info.types if isinstance(info, msgspec.inspect.UnionType) else (info,):
        if isinstance(kind, msgspec.inspect.ListType):
            kind = kind.item_type
        if isinstance(kind, msgspec.inspect.StrType):
            return True
    return False


# Per entity: the fields only some roles write, those that hold text (checked for NUL), the sets.
_RESTRICTED = {entity: {n: f.writers for n, f in spec.items() if f.writers != EVERYONE} for entity, spec in ENTITIES.items()}
_TEXTUAL = {entity: {n for n, f in spec.items() if _holds_text(f.type)} for entity, spec in ENTITIES.items()}
_SETS = {entity: {n for n, f in spec.items() if f.kind == "set"} for entity, spec in ENTITIES.items()}


def validate(mutation: Mutation, actor: Actor, current: Record | None) -> dict[str, Any]:
    """The sent fields converted to their types, or Rejected with the reason (R8)."""
    entity, fields = mutation.entity, mutation.fields
    if entity not in ENTITIES:
        raise Rejected(f"unknown entity {entity!r}")
    if actor.role not in EVERYONE:
        raise Rejected("only volunteers and coordinators sync records")
    if current is not None and not may_write(actor, current):
        raise Rejected("not yours to change")
    if not SERVER_ONLY.isdisjoint(fields):
        raise Rejected(f"{next(n for n in fields if n in SERVER_ONLY)} is set by the server")
    for name, writers in _RESTRICTED[entity].items():
        if name in fields and actor.role not in writers:
            raise Rejected(f"{name} is for coordination to set")
    try:
        shaped = msgspec.convert(fields, _SHAPES[entity])
    except msgspec.ValidationError as error:
        raise Rejected(str(error).replace("Object contains unknown field", "unknown field")) from None
    values = {name: getattr(shaped, name) for name in fields}
    for name in _TEXTUAL[entity].intersection(values):
        if _has_nul(values[name]):
            raise Rejected(f"{name} contains a NUL character")
    for name in _SETS[entity].intersection(values):
        values[name] = sorted(set(values[name]))
    if "status" in values:
        allowed = REVIEW_STATUSES + VOLUNTEER_STATUSES if actor.role == "coordinator" else VOLUNTEER_STATUSES
        if values["status"] not in allowed:
            raise Rejected(f"status {values['status']} is for coordination to set")
    return values


def may_write(actor: Actor, record: Record) -> bool:
    return record.organisation_id == actor.organisation_id and (
        record.owner_id == actor.user_id or actor.role == "coordinator"
    )


def may_read(user_id: UUID, role: str, organisation_id: UUID, record: Record) -> bool:
    """Who sees a record: its author, and coordination unless it is a private note."""
    if record.organisation_id != organisation_id:
        return False
    if record.entity in FEED_ALL:
        return True
    if record.owner_id == user_id:
        return True
    if record.entity in FEED_OWN:  # coordination reads these on its own pages, not through sync
        return False
    if record.entity == "conflict":  # R14: its author, the record's owner, and coordination
        return role == "coordinator" or record.fields.get("record_owner_id") == str(user_id)
    return role == "coordinator" and (record.entity != "note" or bool(record.fields.get("shared")))


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    return isinstance(value, list) and any("\x00" in item for item in value)
