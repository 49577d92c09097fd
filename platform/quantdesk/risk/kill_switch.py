"""The kill switch: the desk-wide trading state, kept in one small JSON file under home.

A file (written atomically) lets the CLI, the API and a running strategy share one switch
without a server. A file that cannot be read counts as HALTED: when in doubt, send nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from quantdesk.config import Settings
from quantdesk.data.atomic_files import write_file_atomic
from quantdesk.domain.errors import InvalidInputError, TradingHaltedError
from quantdesk.domain.timeutil import require_utc, utc_now
from quantdesk.risk.trading_state import TradingState

KILL_SWITCH_FILE = "kill_switch.json"


@dataclass(frozen=True, slots=True)
class KillSwitchStatus:
    """The state, who set it, why and when."""

    state: TradingState
    reason: str
    actor: str
    changed_at: datetime | None

    def to_dict(self) -> dict[str, str | None]:
        return {
            "state": self.state.value,
            "reason": self.reason,
            "actor": self.actor,
            "changed_at": None if self.changed_at is None else self.changed_at.isoformat(),
        }


_DEFAULT = KillSwitchStatus(TradingState.ACTIVE, "default", "system", None)


class KillSwitch:
    """Read and flip the trading state stored at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @classmethod
    def from_settings(cls, settings: Settings) -> KillSwitch:
        """The desk's switch: ``<home>/risk/kill_switch.json``."""
        return cls(settings.home / "risk" / KILL_SWITCH_FILE)

    def status(self) -> KillSwitchStatus:
        if not self.path.exists():
            return _DEFAULT
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            changed = data.get("changed_at")
            return KillSwitchStatus(
                state=TradingState(data["state"]),
                reason=str(data.get("reason", "")),
                actor=str(data.get("actor", "")),
                changed_at=None if changed is None else datetime.fromisoformat(changed),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            return KillSwitchStatus(TradingState.HALTED, f"unreadable switch file: {exc}", "", None)

    @property
    def state(self) -> TradingState:
        return self.status().state

    def set_state(
        self, state: TradingState, *, reason: str, actor: str, at: datetime | None = None
    ) -> KillSwitchStatus:
        """Write the new state (idempotent: the same state again only refreshes the reason)."""
        if not reason.strip() or not actor.strip():
            raise InvalidInputError("changing the trading state needs a reason and an actor")
        when = utc_now() if at is None else require_utc(at, "at")
        status = KillSwitchStatus(TradingState(state), reason.strip(), actor.strip(), when)
        payload = json.dumps(status.to_dict(), indent=2).encode("utf-8")

        def write(handle: BinaryIO) -> None:
            handle.write(payload)

        write_file_atomic(self.path, write)
        return status

    def halt(self, *, reason: str, actor: str) -> KillSwitchStatus:
        return self.set_state(TradingState.HALTED, reason=reason, actor=actor)

    def reduce_only(self, *, reason: str, actor: str) -> KillSwitchStatus:
        return self.set_state(TradingState.REDUCING, reason=reason, actor=actor)

    def resume(self, *, reason: str, actor: str) -> KillSwitchStatus:
        return self.set_state(TradingState.ACTIVE, reason=reason, actor=actor)

    def ensure_not_halted(self) -> None:
        """Raise :class:`TradingHaltedError` when the switch is engaged (for order senders)."""
        status = self.status()
        if status.state is TradingState.HALTED:
            raise TradingHaltedError(f"trading is halted: {status.reason}")
