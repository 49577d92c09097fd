"""The file-backed kill switch: persisted, shared between instances, fails safe."""

from __future__ import annotations

from pathlib import Path

import pytest

from quantdesk.domain.errors import InvalidInputError, TradingHaltedError
from quantdesk.risk.kill_switch import KillSwitch
from quantdesk.risk.trading_state import TradingState


def test_kill_switch_without_file_is_active(tmp_path: Path) -> None:
    assert KillSwitch(tmp_path / "ks.json").state is TradingState.ACTIVE


def test_kill_switch_halt_is_seen_by_another_instance(tmp_path: Path) -> None:
    KillSwitch(tmp_path / "ks.json").halt(reason="venue outage", actor="alice")

    status = KillSwitch(tmp_path / "ks.json").status()

    assert status.state is TradingState.HALTED
    assert (status.reason, status.actor) == ("venue outage", "alice")
    with pytest.raises(TradingHaltedError, match="venue outage"):
        KillSwitch(tmp_path / "ks.json").ensure_not_halted()


def test_kill_switch_resume_after_reduce_only(tmp_path: Path) -> None:
    switch = KillSwitch(tmp_path / "ks.json")
    switch.reduce_only(reason="drawdown", actor="risk")

    switch.resume(reason="reviewed", actor="bob")

    assert switch.state is TradingState.ACTIVE


def test_kill_switch_unreadable_file_counts_as_halted(tmp_path: Path) -> None:
    path = tmp_path / "ks.json"
    path.write_text("{not json")

    assert KillSwitch(path).state is TradingState.HALTED


def test_kill_switch_change_without_reason_raises(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="reason"):
        KillSwitch(tmp_path / "ks.json").halt(reason=" ", actor="alice")
