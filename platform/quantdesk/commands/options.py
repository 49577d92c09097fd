"""Option parsing the commands share: UTC dates and symbol lists; errors name the input."""

from __future__ import annotations

from datetime import UTC, date, datetime

from quantdesk.domain import InvalidDateRangeError


def parse_utc(text: str, option: str) -> datetime:
    """``2024-03-01`` (midnight UTC) or an ISO time with an offset; naive times are UTC."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidDateRangeError(
            f"{option} {text!r} is not a date (YYYY-MM-DD) or ISO time"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def midnight_utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def split_symbols(text: str | None) -> list[str] | None:
    """``AAPL,BTC-USD`` -> ["AAPL", "BTC-USD"]; None or empty means "the universe"."""
    if not text:
        return None
    return [part.strip().upper() for part in text.split(",") if part.strip()]
