"""The server's clock, passed in as a parameter so tests can move time (only it orders anything)."""

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

Clock = Callable[[], datetime]
LOCAL = ZoneInfo("Europe/Berlin")  # the zone people's days and times are meant in


def system_clock() -> datetime:
    return datetime.now(UTC)
