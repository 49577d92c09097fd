"""The alert value and the sink interface every delivery channel implements.

An :class:`Alert` is a frozen value so it can be queued, deduplicated and written to the
outbox without copies drifting apart. Sinks (file outbox, Slack, email) implement
:class:`AlertSink`; the manager in :mod:`quantdesk.monitoring.alert_manager` decides what is sent.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from quantdesk.domain.errors import InvalidInputError


class Severity(enum.StrEnum):
    """How urgent an alert is; ordered so a threshold can filter (info < warning < critical)."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def at_least(self, threshold: Severity) -> bool:
        return self.rank >= threshold.rank


_RANKS = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Alert:
    """Something a person should know about.

    ``dedup_key`` identifies repeats of the same condition (defaults to ``source:title``), so a
    failing task that retries does not page someone three times.
    """

    severity: Severity
    title: str
    body: str = ""
    source: str = "quantdesk"
    dedup_key: str = ""
    created_at: datetime = field(default_factory=_utc_now)

    def __post_init__(self) -> None:
        if not isinstance(self.severity, Severity):
            try:
                object.__setattr__(self, "severity", Severity(str(self.severity)))
            except ValueError:
                raise InvalidInputError(
                    f"alert severity must be one of info, warning, critical; got {self.severity!r}"
                ) from None
        if not self.title.strip():
            raise InvalidInputError("alert title must not be empty")
        if self.created_at.tzinfo is None:
            raise InvalidInputError("alert created_at must be timezone-aware (UTC)")
        object.__setattr__(self, "created_at", self.created_at.astimezone(UTC))
        if not self.dedup_key:
            object.__setattr__(self, "dedup_key", f"{self.source}:{self.title}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (the outbox line format)."""
        return {
            "severity": self.severity.value,
            "title": self.title,
            "body": self.body,
            "source": self.source,
            "dedup_key": self.dedup_key,
            "created_at": self.created_at.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Alert:
        """Inverse of :meth:`to_dict`."""
        return cls(
            severity=Severity(data["severity"]),
            title=str(data["title"]),
            body=str(data.get("body", "")),
            source=str(data.get("source", "quantdesk")),
            dedup_key=str(data.get("dedup_key", "")),
            created_at=datetime.fromisoformat(str(data["created_at"])),
        )


@runtime_checkable
class AlertSink(Protocol):
    """A delivery channel. ``send`` raises on failure; the manager catches and logs it."""

    def send(self, alert: Alert) -> None: ...
