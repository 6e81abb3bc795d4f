"""The server's clock, passed in as a parameter so tests can move time (only it orders anything)."""

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)
