"""The live decision engine as the event-driven backtest's decision step.

Each bar, for each symbol: a signal from data up to that bar (a trained model's prediction or a
rule such as the SMA crossover), the trailing bar volatility and the book's current weight go
into :class:`~quantdesk.decisions.engine.DecisionEngine`, the very engine the live path uses, with
the desk's rules (kill switch, restricted list, overrides, confidence, sizing, caps). Its target
weights then go through the backtest's risk gate. Every :class:`Decision` is kept, so a backtest
can be audited exactly like live trading.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from quantdesk.backtest.event_driven import BarView, Book
from quantdesk.decisions.engine import DecisionEngine, DecisionInputs
from quantdesk.decisions.rules import DecisionContext
from quantdesk.decisions.simple_signals import sma_crossover_signal
from quantdesk.domain import InvalidInputError
from quantdesk.domain.trading import Decision, Signal

FloatArray = NDArray[np.float64]


class SignalSource(Protocol):
    """A view on one symbol from bars ``0..bar.index`` only (``None``: no view yet)."""

    def signal(self, symbol: str, column: int, bar: BarView) -> Signal | None: ...


class SmaSignals:
    """The SMA crossover as a model-shaped signal (for running before any model is trained)."""

    def __init__(self, fast: int = 20, slow: int = 50, confidence: float = 0.6) -> None:
        if not 1 <= fast < slow:
            raise InvalidInputError(f"need 1 <= fast < slow, got {fast}, {slow}")
        self.fast, self.slow, self.confidence = fast, slow, confidence

    def signal(self, symbol: str, column: int, bar: BarView) -> Signal | None:
        closes = bar.close[:, column]
        if len(closes) < self.slow + 1:
            return None
        return sma_crossover_signal(
            symbol, pd.Series(closes), bar.time.to_pydatetime(),
            fast=self.fast, slow=self.slow, confidence=self.confidence,
        )  # fmt: skip


class DecisionEngineStep:
    """A :class:`~quantdesk.backtest.event_driven.DecisionStep` for one portfolio."""

    def __init__(
        self,
        symbols: Sequence[str],
        engine: DecisionEngine,
        context: DecisionContext,
        signals: SignalSource,
        vol_window: int = 20,
    ) -> None:
        if vol_window < 2:
            raise InvalidInputError("vol_window must be >= 2 bars")
        self.symbols = tuple(symbols)
        self.engine = engine
        self.context = context
        self.signals = signals
        self.vol_window = vol_window
        self.decisions: list[Decision] = []

    def decide(self, bar: BarView, book: Book) -> FloatArray:
        current = np.asarray(book.weights, dtype=np.float64)
        if current.shape != (len(self.symbols),):
            raise InvalidInputError("the decision engine step runs one portfolio at a time")
        targets = current.copy()
        for column, symbol in enumerate(self.symbols):
            volatility = self._bar_volatility(bar.close[:, column])
            if volatility is None:
                targets[column] = 0.0  # no history to size from: no position
                continue
            decision = self.engine.decide(
                DecisionInputs(
                    symbol=symbol,
                    as_of=bar.time.to_pydatetime(),
                    bar_volatility=volatility,
                    current_weight=float(current[column]),
                    signal=self.signals.signal(symbol, column, bar),
                ),
                self.context,
            )
            self.decisions.append(decision)
            targets[column] = decision.target_weight
        return targets

    def _bar_volatility(self, closes: FloatArray) -> float | None:
        window = closes[-(self.vol_window + 1) :]
        if len(window) <= self.vol_window or not np.all(window > 0):
            return None
        value = float(np.std(np.diff(np.log(window)), ddof=1))
        return value if np.isfinite(value) and value > 0 else None
