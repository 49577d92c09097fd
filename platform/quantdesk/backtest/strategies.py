"""Strategies turn a market panel into target weights; a registry maps CLI names to them.

A strategy sees only a :class:`MarketPanel` and must use, for the weight of bar t, nothing
after bar t's close (the engines then trade it at bar t+1). ``fit`` receives the training
bars of a walk-forward fold only, so a learned strategy never sees its test period. The
learned ones (``hybrid``, ``rl``, ``ensemble``, see :mod:`quantdesk.backtest.model_strategies`)
are retrained per fold; a registry champion is never backtested over the history it learned.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
import pandas as pd

from quantdesk.backtest.costs import CostModel
from quantdesk.backtest.market_panel import MarketPanel
from quantdesk.backtest.metrics import sharpe_ratio
from quantdesk.backtest.model_strategies import HybridStrategy, ModelEnsembleStrategy, RlStrategy
from quantdesk.backtest.vectorized import simulate
from quantdesk.config import CostSettings, Settings
from quantdesk.domain import InvalidInputError


class Strategy(Protocol):
    """What the backtest runners need from a strategy."""

    @property
    def name(self) -> str: ...

    @property
    def trials(self) -> int:
        """How many variants ``fit`` chooses among (priced in by the deflated Sharpe)."""
        ...

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

    @property
    def trials(self) -> int:
        return 1

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

    @property
    def trials(self) -> int:
        return 1

    def fit(self, train: MarketPanel) -> BuyAndHold:
        return self

    def target_weights(self, panel: MarketPanel) -> pd.DataFrame:
        close = panel.close
        return pd.DataFrame(self.gross / close.shape[1], index=close.index, columns=close.columns)


@dataclass(frozen=True, slots=True)
class SmaGridSearch:
    """The SMA crossover whose windows are chosen on each training fold by net Sharpe.

    ``fit`` backtests every (fast, slow) pair of the grid on the training bars with the
    platform's costs (one vectorized run for the whole grid) and keeps the best; the test
    bars then trade that pair. ``trials`` is the grid size, so the deflated Sharpe ratio
    prices in the search.
    """

    costs: CostSettings
    fast_windows: tuple[int, ...] = (5, 10, 20, 50)
    slow_windows: tuple[int, ...] = (50, 100, 150, 200)
    periods_per_year: int = 252
    chosen: SmaCrossover | None = None

    @property
    def pairs(self) -> tuple[tuple[int, int], ...]:
        return tuple((f, s) for f in self.fast_windows for s in self.slow_windows if f < s)

    @property
    def name(self) -> str:
        return "sma_grid" if self.chosen is None else f"sma_grid({self.chosen.name})"

    @property
    def trials(self) -> int:
        return len(self.pairs)

    def fit(self, train: MarketPanel) -> SmaGridSearch:
        if not self.pairs:
            raise InvalidInputError("the SMA grid has no pair with fast < slow")
        weights = np.stack(
            [SmaCrossover(f, s).target_weights(train).to_numpy() for f, s in self.pairs], axis=1
        )
        model = CostModel.from_settings(train.symbols, self.costs)
        equity = simulate(
            train.open.to_numpy(dtype=np.float64),
            train.close.to_numpy(dtype=np.float64),
            weights,
            model,
        ).equity
        returns = equity[1:] / equity[:-1] - 1.0
        scores = [
            sharpe_ratio(returns[:, k], self.periods_per_year) for k in range(returns.shape[1])
        ]
        best = int(np.argmax(np.where(np.isnan(scores), -np.inf, scores)))
        fast, slow = self.pairs[best]
        return replace(self, chosen=SmaCrossover(fast, slow))

    def target_weights(self, panel: MarketPanel) -> pd.DataFrame:
        if self.chosen is None:
            raise InvalidInputError("sma_grid must be fitted on training bars before trading")
        return self.chosen.target_weights(panel)


StrategyFactory = Callable[[Settings], Strategy]

STRATEGIES: dict[str, StrategyFactory] = {
    "sma": lambda s: SmaCrossover(fast=s.backtest.sma_fast, slow=s.backtest.sma_slow),
    "sma_grid": lambda s: SmaGridSearch(s.costs, periods_per_year=s.backtest.periods_per_year),
    "buy_and_hold": lambda s: BuyAndHold(),
    "hybrid": HybridStrategy,
    "rl": RlStrategy,
    "ensemble": ModelEnsembleStrategy.from_settings,
}


def build_strategy(name: str, settings: Settings) -> Strategy:
    """The registered strategy ``name``; raises naming the known ones."""
    try:
        factory = STRATEGIES[name]
    except KeyError:
        known = ", ".join(sorted(STRATEGIES))
        raise InvalidInputError(f"unknown strategy {name!r}; known strategies: {known}") from None
    return factory(settings)
