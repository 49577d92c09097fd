"""Half-open ``[start, end)`` time filters shared by every listing of the store."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select
from sqlalchemy.orm import QueryableAttribute

from quantdesk.domain.errors import InvalidDateRangeError, InvalidInputError

_S = TypeVar("_S", bound=Select[Any])


def check_window(start: datetime | None, end: datetime | None) -> None:
    """Refuse naive bounds and empty or reversed windows before any query runs."""
    for name, value in (("start", start), ("end", end)):
        if value is not None and (not isinstance(value, datetime) or value.utcoffset() is None):
            raise InvalidDateRangeError(f"{name} must be a time-zone aware datetime, got {value!r}")
    if start is not None and end is not None and start >= end:
        raise InvalidDateRangeError(f"start {start} must be before end {end}")


def check_limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidInputError(f"limit must be a positive integer, got {limit!r}")
    return limit


def within_window(
    query: _S,
    column: ColumnElement[datetime] | QueryableAttribute[datetime],
    start: datetime | None,
    end: datetime | None,
) -> _S:
    """``query`` restricted to ``start <= column < end``; either bound may be open."""
    check_window(start, end)
    if start is not None:
        query = query.where(column >= start)
    if end is not None:
        query = query.where(column < end)
    return query
