"""The file outbox: every alert as one JSON line under home, plus the queue of failed deliveries.

Files in the outbox folder:

- ``alerts.jsonl``: one line per alert that passed the threshold, with what became of it
  (``delivered``, ``suppressed``, ``throttled``). Rotated to ``alerts.1.jsonl`` ... when large.
- ``undelivered.jsonl``: deliveries to Slack or email that failed, retried later.
- ``state.json``: when each dedup key was last sent and how many repeats were muted since,
  plus recent send times for the throttle, so separate processes (DAG tasks) share it.

Appends are one ``write`` on an ``O_APPEND`` descriptor under an exclusive ``flock``, so lines
from concurrent processes never interleave; the state file is replaced atomically.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from quantdesk.data.atomic_files import exclusive_lock, make_dirs, write_file_atomic
from quantdesk.monitoring.alerts import Alert

ALERTS_FILE = "alerts.jsonl"
UNDELIVERED_FILE = "undelivered.jsonl"
STATE_FILE = "state.json"
LOCK_FILE = ".lock"


@dataclass(slots=True)
class KeyState:
    """What the manager remembers about one dedup key."""

    last_sent: datetime
    severity: str
    muted: int = 0


@dataclass(slots=True)
class OutboxState:
    """Dedup memory per key and the recent remote send times (for the throttle)."""

    keys: dict[str, KeyState] = field(default_factory=dict)
    sends: list[datetime] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "keys": {
                key: {
                    "last_sent": s.last_sent.isoformat(),
                    "severity": s.severity,
                    "muted": s.muted,
                }
                for key, s in sorted(self.keys.items())
            },
            "sends": [t.isoformat() for t in self.sends],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OutboxState:
        keys = {
            str(key): KeyState(
                datetime.fromisoformat(str(v["last_sent"])), str(v["severity"]), int(v["muted"])
            )
            for key, v in dict(data.get("keys", {})).items()
        }
        sends = [datetime.fromisoformat(str(t)) for t in data.get("sends", [])]
        return cls(keys, sends)


class FileOutbox:
    """JSON-lines outbox in ``folder``; also a plain :class:`AlertSink` (``send`` records)."""

    def __init__(self, folder: Path, *, max_bytes: int = 5_000_000, keep_files: int = 5) -> None:
        self.folder = Path(folder)
        self.max_bytes = max_bytes
        self.keep_files = keep_files

    @property
    def alerts_path(self) -> Path:
        return self.folder / ALERTS_FILE

    @property
    def undelivered_path(self) -> Path:
        return self.folder / UNDELIVERED_FILE

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the outbox lock (one writer across processes)."""
        with exclusive_lock(self.folder / LOCK_FILE):
            yield

    # -- the alert log -----------------------------------------------------------------------

    def send(self, alert: Alert) -> None:
        """Record ``alert`` with status ``recorded`` (the sink used when nothing else is set)."""
        with self.locked():
            self.append_record({"status": "recorded", "alert": alert.to_dict()})

    def append_record(self, record: Mapping[str, Any]) -> None:
        """Append one line to ``alerts.jsonl``, rotating first if it would grow too large.

        The caller holds :meth:`locked`.
        """
        line = _json_line(record)
        path = self.alerts_path
        if path.exists() and path.stat().st_size + len(line) > self.max_bytes:
            self._rotate()
        _append(path, line)

    def records(self, *, include_rotated: bool = False) -> list[dict[str, Any]]:
        """The alert lines, oldest first (rotated files first when asked)."""
        paths = [self._rotated(i) for i in range(self.keep_files, 0, -1)] if include_rotated else []
        return [r for p in [*paths, self.alerts_path] for r in _read_lines(p)]

    def _rotated(self, index: int) -> Path:
        return self.folder / f"alerts.{index}.jsonl"

    def _rotate(self) -> None:
        self._rotated(self.keep_files).unlink(missing_ok=True)
        for index in range(self.keep_files - 1, 0, -1):
            if self._rotated(index).exists():
                self._rotated(index).replace(self._rotated(index + 1))
        self.alerts_path.replace(self._rotated(1))

    # -- failed deliveries -------------------------------------------------------------------

    def add_undelivered(self, record: Mapping[str, Any]) -> None:
        with self.locked():
            _append(self.undelivered_path, _json_line(record))

    def undelivered(self) -> list[dict[str, Any]]:
        return _read_lines(self.undelivered_path)

    def take_undelivered(self) -> list[dict[str, Any]]:
        """Remove and return the queue (the caller re-adds what still fails)."""
        with self.locked():
            records = _read_lines(self.undelivered_path)
            self.undelivered_path.unlink(missing_ok=True)
        return records

    # -- dedup and throttle memory -----------------------------------------------------------

    def read_state(self) -> OutboxState:
        path = self.folder / STATE_FILE
        if not path.exists():
            return OutboxState()
        return OutboxState.from_json(json.loads(path.read_text(encoding="utf-8")))

    def write_state(self, state: OutboxState) -> None:
        payload = json.dumps(state.to_json(), indent=1).encode()
        write_file_atomic(self.folder / STATE_FILE, lambda handle: handle.write(payload))


def _json_line(record: Mapping[str, Any]) -> bytes:
    return (json.dumps(record, sort_keys=True, default=str) + "\n").encode("utf-8")


def _append(path: Path, line: bytes) -> None:
    make_dirs(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]
