"""Strategies turn a market panel into target weights; a registry maps CLI names to them.

A strategy sees only a :class:`MarketPanel` and must use, for the weight of bar t, nothing
after bar t's close (the engines then trade it at bar t+1). ``fit`` receives the training
bars of a walk-forward fold only, so a learned strategy never sees its test period. Adding a
strategy (hybrid, rl, ensemble) is one entry in :data:`STRATEGIES`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from quantdesk.backtest.market_panel import MarketPanel
from quantdesk.config import Settings
from quantdesk.domain import InvalidInputError


class Strategy(Protocol):
    """What the backtest runners need from a strategy."""

    @property
    def name(self) -> str: ...

    def fit(self, train: MarketPanel) -> Strategy:
        """A strategy ready to trade, learned from ``train`` only (may return ``self``)."""
        ...

    def target_weights(self, panel: MarketPanel) -> pd.DataFrame:
        """Weights (bars x symbols of ``panel``) decided at each bar's close."""
        ...


@dataclass(frozen=True, slots=True)
class SmaCrossover:
    """Long (or short) a symbol while its fast moving average is above (below) the slow one.

    Each symbol gets an equal sleeve of ``gross / n_symbols``; before the slow average has a
    full window the weight is zero. A baseline that needs no model.
    """

    fast: int = 20
    slow: int = 100
    allow_short: bool = False
    gross: float = 1.0

    def __post_init__(self) -> None:
        if not 1 <= self.fast < self.slow:
            raise InvalidInputError(
                f"SMA windows need 1 <= fast < slow, got fast={self.fast} slow={self.slow}"
            )
        if not (np.isfinite(self.gross) and self.gross > 0):
            raise InvalidInputError(f"gross exposure must be positive, got {self.gross}")

    @property
    def name(self) -> str:
        return f"sma_{self.fast}_{self.slow}" + ("_ls" if self.allow_short else "")

    def fit(self, train: MarketPanel) -> SmaCrossover:
        return self

    def target_weights(self, panel: MarketPanel) -> pd.DataFrame:
        close = panel.close
        fast = close.rolling(self.fast, min_periods=self.fast).mean()
        slow = close.rolling(self.slow, min_periods=self.slow).mean()
        up = (fast > slow).to_numpy()
        ready = slow.notna().to_numpy()
        down = (fast < slow).to_numpy() & self.allow_short
        signal = np.where(ready & up, 1.0, np.where(ready & down, -1.0, 0.0))
        sleeve = self.gross / close.shape[1]
        return pd.DataFrame(signal * sleeve, index=close.index, columns=close.columns)


@dataclass(frozen=True, slots=True)
class BuyAndHold:
    """Equal weights held throughout: the benchmark a strategy has to beat after costs."""

    gross: float = 1.0

    @property
    def name(self) -> str:
        return "buy_and_hold"

    def fit(self, train: MarketPanel) -> BuyAndHold:
        return self

    def target_weights(self, panel: MarketPanel) -> pd.DataFrame:
        close = panel.close
        return pd.DataFrame(self.gross / close.shape[1], index=close.index, columns=close.columns)


StrategyFactory = Callable[[Settings], Strategy]

STRATEGIES: dict[str, StrategyFactory] = {
    "sma": lambda s: SmaCrossover(fast=s.backtest.sma_fast, slow=s.backtest.sma_slow),
    "buy_and_hold": lambda s: BuyAndHold(),
}


def build_strategy(name: str, settings: Settings) -> Strategy:
    """The registered strategy ``name``; raises naming the known ones."""
    try:
        factory = STRATEGIES[name]
    except KeyError:
        known = ", ".join(sorted(STRATEGIES))
        raise InvalidInputError(f"unknown strategy {name!r}; known strategies: {known}") from None
    return factory(settings)
