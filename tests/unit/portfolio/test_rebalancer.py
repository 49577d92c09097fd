"""Rebalancing: minimum trade size, turnover cap, cost hurdle, orders."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from quantdesk.backtest.costs import CostModel
from quantdesk.config import PortfolioSettings
from quantdesk.domain.errors import InvalidInputError
from quantdesk.domain.trading import Side
from quantdesk.portfolio.rebalancer import plan_rebalance, plan_to_orders

SYMBOLS = ("AAPL", "MSFT", "BTC-USD")
COSTS = CostModel(
    SYMBOLS, fee_bps=np.array([1.0, 1.0, 40.0]), half_spread_bps=np.array([1.0, 1.0, 5.0])
)
LOOSE = PortfolioSettings(max_turnover=10.0, min_trade_weight=0.0)
AT = datetime(2026, 2, 2, 21, 0, tzinfo=UTC)


def test_plan_rebalance_reaches_target_without_frictions() -> None:
    plan = plan_rebalance({"AAPL": 0.5}, {"AAPL": 0.2, "MSFT": 0.3}, LOOSE, CostModel.free(SYMBOLS))

    assert dict(plan.trades) == {"AAPL": pytest.approx(-0.3), "MSFT": pytest.approx(0.3)}
    assert dict(plan.weights_after) == {"AAPL": pytest.approx(0.2), "MSFT": pytest.approx(0.3)}
    assert plan.turnover == pytest.approx(0.6) and plan.estimated_cost == 0.0


def test_plan_rebalance_drops_trades_below_minimum() -> None:
    settings = PortfolioSettings(max_turnover=10.0, min_trade_weight=0.01)

    plan = plan_rebalance({"AAPL": 0.3, "MSFT": 0.2}, {"AAPL": 0.305, "MSFT": 0.4}, settings, COSTS)

    assert set(plan.trades) == {"MSFT"}
    assert "below the minimum" in plan.skipped["AAPL"]
    assert plan.weights_after["AAPL"] == 0.3


def test_plan_rebalance_caps_turnover_proportionally() -> None:
    settings = PortfolioSettings(max_turnover=0.2, min_trade_weight=0.0)

    plan = plan_rebalance({}, {"AAPL": 0.3, "MSFT": 0.1}, settings, COSTS)

    assert plan.turnover == pytest.approx(0.2)
    assert plan.scaled_by == pytest.approx(0.5)
    assert dict(plan.trades) == {"AAPL": pytest.approx(0.15), "MSFT": pytest.approx(0.05)}


def test_plan_rebalance_cost_hurdle_skips_adds_that_do_not_pay() -> None:
    # BTC costs 45 bps one way; an expected 20 bps does not pay, AAPL's 20 bps beats 2 bps.
    expected = {"AAPL": 0.002, "BTC-USD": 0.002}

    plan = plan_rebalance({}, {"AAPL": 0.2, "BTC-USD": 0.2}, LOOSE, COSTS, expected)

    assert set(plan.trades) == {"AAPL"}
    assert "does not beat cost" in plan.skipped["BTC-USD"]


def test_plan_rebalance_cost_hurdle_never_blocks_reductions() -> None:
    plan = plan_rebalance({"BTC-USD": 0.3}, {"BTC-USD": 0.1}, LOOSE, COSTS, {"BTC-USD": 0.0})

    assert dict(plan.trades) == {"BTC-USD": pytest.approx(-0.2)}


def test_plan_rebalance_estimated_cost_matches_the_cost_model() -> None:
    plan = plan_rebalance({"AAPL": 0.1}, {"AAPL": 0.4, "BTC-USD": 0.2}, LOOSE, COSTS)

    expected = COSTS.rebalance_cost(np.array([0.1, 0, 0]), np.array([0.4, 0, 0.2]))
    assert plan.estimated_cost == pytest.approx(float(expected))
    assert plan.estimated_cost > 0


def test_plan_to_orders_sizes_by_equity_and_lot() -> None:
    plan = plan_rebalance({"MSFT": 0.2}, {"AAPL": 0.1}, LOOSE, COSTS)

    orders = plan_to_orders(
        plan, 100_000, {"AAPL": 150.0, "MSFT": 400.0}, AT, "reb-1", lot_size={"AAPL": 1.0}
    )

    by_symbol = {o.symbol: o for o in orders}
    assert by_symbol["AAPL"].side is Side.BUY and by_symbol["AAPL"].quantity == 66
    assert by_symbol["MSFT"].side is Side.SELL and by_symbol["MSFT"].quantity == pytest.approx(50)
    assert by_symbol["AAPL"].client_order_id == "reb-1-AAPL"


def test_plan_rebalance_symbol_without_cost_rates_raises() -> None:
    with pytest.raises(InvalidInputError, match="EUR-USD"):
        plan_rebalance({}, {"EUR-USD": 0.1}, LOOSE, COSTS)
