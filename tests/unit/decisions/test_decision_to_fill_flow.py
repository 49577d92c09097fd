"""One trading step end to end: signals -> decisions -> risk-gated weights -> accounting."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from quantdesk.config import DecisionSettings, RiskSettings
from quantdesk.decisions.engine import DecisionEngine, DecisionInputs
from quantdesk.decisions.rules import DecisionContext
from quantdesk.decisions.simple_signals import sma_crossover_signal
from quantdesk.portfolio.accounting import Account, Fill
from quantdesk.risk.limits import RiskLimits
from quantdesk.risk.pretrade import AccountState
from quantdesk.risk.trading_state import TradingState
from quantdesk.risk.weight_gate import gate_target_weights

AT = datetime(2026, 5, 4, 20, 0, tzinfo=UTC)
CLOSES = {
    "AAPL": pd.Series(150 * np.exp(0.003 * np.arange(60))),
    "MSFT": pd.Series(300 * np.exp(-0.003 * np.arange(60))),
}


def step(trading_state: TradingState, account: Account) -> tuple[Account, tuple[str, ...]]:
    prices = {s: float(c.iloc[-1]) for s, c in CLOSES.items()}
    engine = DecisionEngine(DecisionSettings(max_abs_weight=0.2))  # 200k < 250k order cap
    equity = account.equity(prices)
    weights = account.weights(prices) if account.positions else {}
    decisions = engine.decide_all(
        [
            DecisionInputs(symbol, AT, bar_volatility=0.015, current_weight=weights.get(symbol, 0),
                           signal=sma_crossover_signal(symbol, closes, AT, fast=5, slow=20))
            for symbol, closes in CLOSES.items()
        ],
        DecisionContext(trading_state=trading_state),
    )  # fmt: skip
    state = AccountState(
        equity=equity, start_of_day_equity=equity, peak_equity=equity,
        positions={s: account.quantity(s) for s in CLOSES}, last_prices=prices,
        trading_state=trading_state,
    )  # fmt: skip
    gated = gate_target_weights(
        {d.symbol: d.target_weight for d in decisions},
        state,
        RiskLimits.from_settings(RiskSettings()),
        AT,
        "step",
    )
    for symbol in CLOSES:
        traded = gated.state.position(symbol) - account.quantity(symbol)
        if abs(traded) > 1e-9:
            account = account.apply(Fill(symbol, traded, prices[symbol], fee=1.0))
    return account, gated.denied


def test_trading_step_goes_long_the_riser_and_short_the_faller() -> None:
    account, denied = step(TradingState.ACTIVE, Account.open(1_000_000))

    prices = {s: float(c.iloc[-1]) for s, c in CLOSES.items()}
    assert denied == ()
    assert account.quantity("AAPL") > 0 > account.quantity("MSFT")
    assert account.equity(prices) == pytest.approx(1_000_000 - 2.0)


def test_trading_step_halted_changes_nothing() -> None:
    start = Account.open(1_000_000).apply(Fill("AAPL", 100, 150.0))

    account, _ = step(TradingState.HALTED, start)

    assert account == start
