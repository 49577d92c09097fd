"""Weight-based callers get the same pre-trade checks as orders."""

from __future__ import annotations

import pytest

from quantdesk.risk.limits import RiskLimits
from quantdesk.risk.pretrade import DenialReason
from quantdesk.risk.trading_state import TradingState
from quantdesk.risk.weight_gate import gate_target_weights
from tests.unit.risk.risk_test_data import T0, account


def test_gate_target_weights_without_limits_reaches_target() -> None:
    gated = gate_target_weights({"AAPL": 0.3, "MSFT": -0.2}, account(), RiskLimits(), T0, "g1")

    assert dict(gated.weights) == {"AAPL": pytest.approx(0.3), "MSFT": pytest.approx(-0.2)}
    assert gated.denied == ()


def test_gate_target_weights_denied_symbol_keeps_current_weight() -> None:
    book = account(equity=100_000, positions={"AAPL": 100.0})  # AAPL at 10%
    limits = RiskLimits(max_concentration=0.25)

    gated = gate_target_weights({"AAPL": 0.1, "MSFT": 0.4}, book, limits, T0, "g2")

    assert gated.denied == ("MSFT",)
    assert gated.verdicts["MSFT"].reasons == (DenialReason.MAX_CONCENTRATION,)
    assert dict(gated.weights) == {"AAPL": pytest.approx(0.1)}


def test_gate_target_weights_reductions_go_first_to_free_gross_room() -> None:
    book = account(equity=100_000, positions={"MSFT": 400.0})  # gross 0.8 in MSFT
    limits = RiskLimits(max_gross_exposure=1.0)

    # Alphabetically AAPL comes first and would breach gross before MSFT is sold.
    gated = gate_target_weights({"AAPL": 0.75, "MSFT": 0.0}, book, limits, T0, "g3")

    assert gated.denied == ()
    assert dict(gated.weights) == {"AAPL": pytest.approx(0.75)}


def test_gate_target_weights_reduce_only_blocks_new_positions() -> None:
    book = account(equity=100_000, positions={"AAPL": 500.0}, state=TradingState.REDUCING)

    gated = gate_target_weights({"AAPL": 0.2, "MSFT": 0.1}, book, RiskLimits(), T0, "g4")

    assert gated.denied == ("MSFT",)
    assert dict(gated.weights) == {"AAPL": pytest.approx(0.2)}
