"""The backtest-and-promote step: after-cost backtests recorded, then the existing gate."""

from __future__ import annotations

from pathlib import Path

import pytest

from quantdesk.models.registry import CHAMPION, ModelRegistry
from quantdesk.pipelines.backtest_and_promote import (
    BACKTEST_TAG,
    CHALLENGER_STRATEGIES,
    BacktestAndPromoteSummary,
    backtest_and_promote,
)
from quantdesk.pipelines.train_hybrid import train_hybrid
from quantdesk.pipelines.train_rl import train_rl
from quantdesk.store.operational_store import OperationalStore
from tests.unit.backtest.model_strategy_lake import END, START, fill_lake, tiny_settings

pytestmark = pytest.mark.slow


def _run(home: Path, with_rl: bool) -> tuple[Path, BacktestAndPromoteSummary]:
    """Registered (not yet promoted) tiny challengers, then one backtest-and-promote run."""
    fill_lake(home)
    settings = tiny_settings(home)
    train_hybrid(settings, START, END, promote=False)
    if with_rl:
        train_rl(settings, START, END)
    return home, backtest_and_promote(settings, START, END)


@pytest.fixture(scope="module")
def promoted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BacktestAndPromoteSummary]:
    return _run(tmp_path_factory.mktemp("promote"), with_rl=True)


def test_backtest_and_promote_backtests_every_challenger_strategy_after_costs(
    promoted: tuple[Path, BacktestAndPromoteSummary],
) -> None:
    # Arrange
    home, summary = promoted

    # Assert
    assert set(summary.metrics) == set(CHALLENGER_STRATEGIES)
    for metrics in summary.metrics.values():
        assert metrics["bars"] > 0 and "costs_paid" in metrics
    reports = {p.name for p in (home / "reports").glob("backtest_*.json")}
    assert {f"backtest_{s}_20150101_20170101.json" for s in CHALLENGER_STRATEGIES} <= reports


def test_backtest_and_promote_registered_challenger_passes_gate_with_metrics_recorded(
    promoted: tuple[Path, BacktestAndPromoteSummary],
) -> None:
    # Arrange
    home, summary = promoted
    settings = tiny_settings(home)
    name = settings.models.registered_name

    # Act
    champion = ModelRegistry(settings).by_alias(name, CHAMPION)

    # Assert
    hybrid = next(p for p in summary.promotions if p.model == name)
    assert hybrid.promoted and hybrid.version == champion.version == 1
    assert float(champion.tags[f"{BACKTEST_TAG}strategy.turnover"]) == pytest.approx(
        float(summary.metrics["hybrid"]["turnover"])
    )
    assert f"{BACKTEST_TAG}ensemble.sharpe" in champion.tags
    actions = [e.action for e in OperationalStore.from_settings(settings).list_audit_events()]
    assert actions.index("model.backtest_recorded") < actions.index("model.promoted")


def test_backtest_and_promote_rl_challenger_goes_through_the_gate(
    promoted: tuple[Path, BacktestAndPromoteSummary],
) -> None:
    # Arrange
    home, summary = promoted
    settings = tiny_settings(home)

    # Act
    rl = next(p for p in summary.promotions if p.model == settings.rl.model_name)

    # Assert
    assert rl.version == 1 and rl.reasons
    info = ModelRegistry(settings).version(settings.rl.model_name, 1)
    assert f"{BACKTEST_TAG}strategy.sharpe" in info.tags
    assert (CHAMPION in info.aliases) == rl.promoted


def test_backtest_and_promote_without_rl_challenger_promotes_nothing_for_rl(
    tmp_path: Path,
) -> None:
    # Arrange
    home, summary = _run(tmp_path, with_rl=False)

    # Assert
    rl = next(p for p in summary.promotions if p.model == tiny_settings(home).rl.model_name)
    assert not rl.promoted and rl.version is None
    assert rl.reasons == ("no registered challenger",)
