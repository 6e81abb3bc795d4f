"""What the server reads from the wire: msgspec types whose unknown fields are an error, and the
few parsers of form values several forms share."""

import re
from datetime import date
from uuid import UUID

import msgspec

from sync.schema import TIME_OF_DAY

TIME = re.compile(TIME_OF_DAY)  # the same HH:MM a visit log's start time takes


class Strict(msgspec.Struct, forbid_unknown_fields=True):
    pass


def parse_day(value: str) -> date | None:
    """An ISO date from a form field, or None."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def parse_uuid(value: str) -> UUID | None:
    """A UUID from a form field, or None."""
    try:
        return UUID(value)
    except ValueError:
        return None
