"""UTC-only time rules shared by every domain type: naive datetimes are refused, not guessed."""

from __future__ import annotations

from datetime import UTC, datetime

from quantdesk.domain.errors import InvalidInputError


def require_utc(value: datetime, field: str) -> datetime:
    """Return ``value`` converted to UTC; raise if it carries no time zone."""
    if not isinstance(value, datetime):
        raise InvalidInputError(f"{field} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInputError(f"{field} must be time-zone aware (UTC), got naive {value}")
    return value.astimezone(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)
