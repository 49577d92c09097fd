"""How an audit event is hashed: one canonical JSON text, so any backend re-hashes the same.

The hash is ``sha256(prev_hash + canonical_json(event))``. Changing any field of any stored
event, or removing one, breaks the link to every later event.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from quantdesk.domain.errors import InvalidInputError

GENESIS_HASH = "0" * 64


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, no NaN: the same value always gives the same text."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def normalize_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The payload as it will read back from a JSON column (tuples become lists, etc.)."""
    try:
        normalized: dict[str, Any] = json.loads(canonical_json(dict(payload)))
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"audit payload must be plain finite JSON: {exc}") from None
    return normalized


def audit_event_hash(
    *,
    prev_hash: str,
    sequence: int,
    occurred_at: datetime,
    actor: str,
    action: str,
    subject: str,
    payload: Mapping[str, Any],
) -> str:
    """Hex SHA-256 of the previous hash followed by the event's canonical JSON."""
    event = {
        "sequence": sequence,
        "occurred_at": occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "subject": subject,
        "payload": dict(payload),
    }
    return hashlib.sha256((prev_hash + canonical_json(event)).encode("utf-8")).hexdigest()
