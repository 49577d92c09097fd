"""Stress scenarios: preset, user-defined and worst historical window."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from quantdesk.domain.errors import InvalidInputError
from quantdesk.domain.instrument import AssetClass
from quantdesk.risk.stress import (
    HISTORICAL_STYLE_SCENARIOS,
    StressScenario,
    apply_scenario,
    load_scenarios,
    worst_window_scenario,
)


def test_apply_scenario_symbol_shock_overrides_class_shock() -> None:
    scenario = StressScenario(
        "mixed", symbol_shocks={"AAPL": -0.5}, class_shocks={AssetClass.EQUITY: -0.1}
    )

    result = apply_scenario({"AAPL": 1000.0, "MSFT": 2000.0, "EUR-USD": 500.0}, scenario)

    assert result.pnl_by_symbol == {"AAPL": -500.0, "MSFT": -200.0, "EUR-USD": 0.0}
    assert result.pnl == pytest.approx(-700.0)
    assert result.return_on(10_000) == pytest.approx(-0.07)


def test_apply_scenario_short_positions_gain_in_a_crash() -> None:
    crash = next(s for s in HISTORICAL_STYLE_SCENARIOS if s.name == "gfc_2008")

    result = apply_scenario({"SPX": -1000.0}, crash)

    assert result.pnl == pytest.approx(400.0)


def test_worst_window_scenario_finds_the_worst_cumulative_move() -> None:
    returns = pd.DataFrame(
        {"A": [0.01, -0.10, -0.10, 0.05, 0.0], "B": [0.0, 0.02, 0.01, -0.30, 0.0]}
    )

    long_a = worst_window_scenario(returns, pd.Series({"A": 1.0, "B": 0.0}), 2)
    long_b = worst_window_scenario(returns, pd.Series({"A": 0.0, "B": 1.0}), 1)

    assert long_a.symbol_shocks["A"] == pytest.approx(0.9 * 0.9 - 1)
    assert long_b.symbol_shocks["B"] == pytest.approx(-0.30)


def test_load_scenarios_reads_user_json(tmp_path: Path) -> None:
    path = tmp_path / "scenarios.json"
    path.write_text(
        json.dumps([{"name": "fx", "classes": {"fx": -0.05}, "symbols": {"AAPL": 0.1}}])
    )

    (scenario,) = load_scenarios(path)

    assert scenario.shock_for("EUR-USD") == -0.05
    assert scenario.shock_for("AAPL") == 0.1


def test_stress_scenario_shock_below_minus_one_raises() -> None:
    with pytest.raises(InvalidInputError, match="> -1"):
        StressScenario("impossible", symbol_shocks={"AAPL": -1.5})
