"""API usage: one row per request, summarised per principal and endpoint."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from quantdesk.domain.errors import InvalidInputError
from quantdesk.domain.timeutil import require_utc, utc_now
from quantdesk.store.records import ApiUsageSummary
from quantdesk.store.tables import ApiUsageRow
from quantdesk.store.time_window import within_window

ERROR_STATUS_FROM = 400


def insert_usage(
    session: Session,
    *,
    principal: str,
    method: str,
    path: str,
    status_code: int,
    latency_ms: float,
    occurred_at: datetime | None,
) -> None:
    if not 100 <= status_code <= 599:
        raise InvalidInputError(f"status_code must be an HTTP status, got {status_code}")
    if not latency_ms >= 0:  # also refuses NaN
        raise InvalidInputError(f"latency_ms must be >= 0, got {latency_ms}")
    session.add(
        ApiUsageRow(
            occurred_at=utc_now()
            if occurred_at is None
            else require_utc(occurred_at, "occurred_at"),
            principal=principal,
            method=method.upper(),
            path=path,
            status_code=status_code,
            latency_ms=float(latency_ms),
        )
    )
    session.flush()


def summarize_usage(
    session: Session,
    *,
    principal: str | None,
    start: datetime | None,
    end: datetime | None,
) -> list[ApiUsageSummary]:
    """Requests, errors (status >= 400) and latency per (principal, method, path), busiest first."""
    requests = func.count(ApiUsageRow.id)
    errors = func.sum(case((ApiUsageRow.status_code >= ERROR_STATUS_FROM, 1), else_=0))
    query = select(
        ApiUsageRow.principal,
        ApiUsageRow.method,
        ApiUsageRow.path,
        requests,
        errors,
        func.avg(ApiUsageRow.latency_ms),
        func.max(ApiUsageRow.latency_ms),
    )
    query = within_window(query, ApiUsageRow.occurred_at, start, end)
    if principal is not None:
        query = query.where(ApiUsageRow.principal == principal)
    query = query.group_by(ApiUsageRow.principal, ApiUsageRow.method, ApiUsageRow.path).order_by(
        requests.desc(), ApiUsageRow.principal, ApiUsageRow.method, ApiUsageRow.path
    )
    return [
        ApiUsageSummary(
            principal=row[0],
            method=row[1],
            path=row[2],
            requests=int(row[3]),
            errors=int(row[4] or 0),
            mean_latency_ms=float(row[5]),
            max_latency_ms=float(row[6]),
        )
        for row in session.execute(query)
    ]
