"""The event-driven engine's risk gate on the platform's own pre-trade checks.

Each bar's proposed weights go through :func:`quantdesk.risk.weight_gate.gate_target_weights`,
the same checks live orders face (limits, restricted list, daily-loss and drawdown brakes, the
kill switch's state): a denied symbol keeps its current weight. The gate keeps the account's
start-of-day and peak equity across bars and a log of every denial with its reason codes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from quantdesk.backtest.event_driven import BarView, Book
from quantdesk.domain import InvalidInputError
from quantdesk.risk.limits import RiskLimits
from quantdesk.risk.pretrade import AccountState
from quantdesk.risk.trading_state import TradingState
from quantdesk.risk.weight_gate import gate_target_weights

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Denial:
    """One refused trade: when, which symbol, and the checks' reason codes."""

    bar: int
    symbol: str
    reasons: tuple[str, ...]


class PretradeRiskGate:
    """A :class:`~quantdesk.backtest.event_driven.RiskGate` for one portfolio of ``symbols``."""

    def __init__(
        self,
        symbols: tuple[str, ...],
        limits: RiskLimits,
        trading_state: TradingState = TradingState.ACTIVE,
    ) -> None:
        self._symbols = symbols
        self._limits = limits
        self._trading_state = trading_state
        self._peak = 0.0
        self._day_start = 0.0
        self._day: object = None
        self._last_equity = 0.0
        self.denials: list[Denial] = []

    def review(self, targets: FloatArray, bar: BarView, book: Book) -> FloatArray:
        if targets.shape != (len(self._symbols),):
            raise InvalidInputError("the pre-trade gate checks one portfolio at a time")
        equity = float(book.equity)
        day = bar.time.date()
        if day != self._day:
            self._day_start = self._last_equity or equity
            self._day = day
        self._peak = max(self._peak, equity)
        self._last_equity = equity
        close = bar.close[-1]
        state = AccountState(
            equity=equity,
            start_of_day_equity=self._day_start,
            peak_equity=self._peak,
            positions=dict(zip(self._symbols, book.units.tolist(), strict=True)),
            last_prices=dict(zip(self._symbols, close.tolist(), strict=True)),
            trading_state=self._trading_state,
        )
        gated = gate_target_weights(
            dict(zip(self._symbols, targets.tolist(), strict=True)),
            state,
            self._limits,
            bar.time.to_pydatetime(),
            f"bt{bar.index}",
        )
        for symbol in gated.denied:
            reasons = tuple(str(r) for r in gated.verdicts[symbol].reasons)
            self.denials.append(Denial(bar.index, symbol, reasons))
        return np.array([gated.weights.get(s, 0.0) for s in self._symbols])
