"""The decide step on a small synthetic lake: SMA fallback, idempotence, kill switch, champion."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from quantdesk.decisions.rules import DecisionReason
from quantdesk.pipelines.decide import SIGNAL_CHAMPION, SIGNAL_SMA, make_decisions
from quantdesk.pipelines.train_hybrid import train_hybrid
from quantdesk.pipelines.train_rl import promote_rl, train_rl
from quantdesk.risk.kill_switch import KillSwitch
from quantdesk.store.operational_store import OperationalStore
from tests.unit.backtest.model_strategy_lake import START, SYMBOLS, fill_lake, tiny_settings

AS_OF = datetime(2016, 9, 1, tzinfo=UTC)
QUANTDESK = str(Path(sys.executable).with_name("quantdesk"))


@pytest.fixture(scope="module")
def lake_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("decide")
    fill_lake(home)
    return home


@pytest.fixture(scope="module")
def champion_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lake, a tiny hybrid and a tiny RL ensemble promoted by the existing pipelines."""
    home = tmp_path_factory.mktemp("champion")
    fill_lake(home)
    settings = tiny_settings(home)
    assert train_hybrid(settings, START, AS_OF, promote=True).promoted
    train_rl(settings, START, AS_OF)
    assert promote_rl(settings).promoted
    return home


def test_make_decisions_without_champion_falls_back_to_sma_and_says_so(lake_home: Path) -> None:
    # Act
    summary = make_decisions(tiny_settings(lake_home), AS_OF)

    # Assert
    assert summary.signal_source == SIGNAL_SMA
    assert any("SMA" in note for note in summary.notes)
    assert summary.model_versions == {"sma_crossover": "fast5-slow30"}
    assert set(summary.targets) == set(SYMBOLS) and summary.decisions == len(SYMBOLS)
    assert any(t != 0 for t in summary.targets.values())


def test_make_decisions_rerun_same_as_of_records_nothing_new(lake_home: Path) -> None:
    # Arrange
    settings = tiny_settings(lake_home)
    as_of = datetime(2016, 10, 3, tzinfo=UTC)
    first = make_decisions(settings, as_of)

    # Act
    second = make_decisions(settings, as_of)

    # Assert
    assert first.written == len(SYMBOLS) and first.already_stored == 0
    assert second.written == 0 and second.already_stored == len(SYMBOLS)
    assert second.targets == first.targets
    events = OperationalStore.from_settings(settings).list_audit_events()
    recorded = [e for e in events if e.action == "decision.recorded" and e.actor == "decide"]
    assert len({e.subject for e in recorded}) == len(recorded)


def test_make_decisions_kill_switch_halted_holds_current_weights(tmp_path: Path) -> None:
    # Arrange
    fill_lake(tmp_path)
    settings = tiny_settings(tmp_path)
    KillSwitch.from_settings(settings).halt(reason="test drill", actor="tester")
    current = {"AAPL": 0.1, "MSFT": -0.05}

    # Act
    summary = make_decisions(settings, AS_OF, current_weights=current)

    # Assert
    assert summary.trading_state == "halted"
    assert summary.targets == current
    assert all(r[0].startswith(DecisionReason.KILL_SWITCH_HALTED) for r in summary.reasons.values())


@pytest.mark.slow
def test_make_decisions_with_champions_uses_hybrid_signal_and_rl_target(
    champion_home: Path,
) -> None:
    # Act
    summary = make_decisions(tiny_settings(champion_home), AS_OF)

    # Assert
    assert summary.signal_source == SIGNAL_CHAMPION
    assert summary.model_versions == {"hybrid": "1", "rl_ensemble": "1"}
    assert summary.notes == ()
    assert all(
        any(r.startswith(DecisionReason.RL_TARGET) for r in reasons)
        for reasons in summary.reasons.values()
    )
    assert summary.written == len(SYMBOLS)


def test_decide_command_prints_targets_and_the_fallback_note(lake_home: Path) -> None:
    # Arrange
    env = {
        **os.environ,
        "QUANTDESK_HOME": str(lake_home),
        "QUANTDESK_UNIVERSE": ",".join(SYMBOLS),
        "QUANTDESK_BACKTEST__SMA_FAST": "5",
        "QUANTDESK_BACKTEST__SMA_SLOW": "30",
    }

    # Act
    done = subprocess.run(
        [QUANTDESK, "decide", "--as-of", "2016-11-01"],
        env=env, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip

    # Assert
    assert done.returncode == 0, done.stderr
    assert "sma_fallback" in done.stdout and "AAPL" in done.stdout
    assert "2 new" in done.stdout
