"""Frozen results of the store that have no domain type of their own."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from quantdesk.domain.trading import Order


@dataclass(frozen=True, slots=True)
class StoredOrder:
    """An order as recorded, with its lifecycle status (the domain ``Order`` has none)."""

    order: Order
    status: str


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One link of the audit chain: ``hash`` covers ``prev_hash`` and every other field."""

    sequence: int
    occurred_at: datetime
    actor: str
    action: str
    subject: str
    payload: Mapping[str, object]
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class AuditChainReport:
    """Outcome of re-hashing the chain; truthy only when every link checks out."""

    ok: bool
    events_checked: int
    first_bad_sequence: int | None = None
    problem: str = ""

    def __bool__(self) -> bool:
        return self.ok


@dataclass(frozen=True, slots=True)
class ApiUsageSummary:
    """Traffic of one (principal, method, path) over the asked window."""

    principal: str
    method: str
    path: str
    requests: int
    errors: int
    mean_latency_ms: float
    max_latency_ms: float
