"""Vectorized backtest of target weights (bars x symbols), with no look-ahead and costs.

Timing: a target decided on bar t's close is executed at bar t+1 (its open, or its close with
``fill="close"``) and held from then on; the last bar's target is never executed. Between
trades the holdings drift with prices, and each bar's trade moves the drifted weights back to
the target, so costs are charged on the turnover actually needed (drift included) through
:meth:`CostModel.rebalance_cost`: after a trade the holdings are exactly the target weights of
the post-cost equity. Weights are fractions of equity: they may sum to less than 1 (cash),
more than 1 (leverage, negative cash) or be negative (shorts).

With linear costs and no volume cap the whole path is closed-form numpy (the weights held
after each trade are the targets, so every drift is known in advance). Square-root impact and
the volume cap depend on the equity level and on what earlier capped trades left undone, so
they take the stepwise path: one numpy step per bar over the symbols.

Arrays may carry extra middle axes for independent portfolios: targets of shape
``(bars, portfolios, symbols)`` with prices ``(bars, symbols)`` run a whole parameter grid in
one call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from quantdesk.backtest.costs import (
    CostModel,
    linear_rebalance_cost,
    sum_symbols,
    sum_symbols_into,
)
from quantdesk.backtest.market_panel import Fill, MarketPanel
from quantdesk.domain import InvalidInputError

FloatArray = NDArray[np.float64]
Method = Literal["auto", "closed_form", "stepwise"]


@dataclass(frozen=True, slots=True)
class SimulationArrays:
    """Raw engine output; ``equity`` has the leading shape, the rest also the symbol axis."""

    equity: FloatArray  # at each bar's close
    weights: FloatArray  # held right after each bar's trade (fraction of post-trade equity)
    traded: FloatArray  # signed weight change traded at each bar (fraction of pre-trade equity)
    costs: FloatArray  # currency paid per symbol per bar
    units: FloatArray  # quantity held right after each bar's trade


@dataclass(frozen=True, slots=True)
class BacktestResult:
    """One backtest: the equity curve and what was held, traded and paid at each bar."""

    equity: pd.Series
    weights: pd.DataFrame
    turnover: pd.DataFrame
    costs: pd.DataFrame
    positions: pd.DataFrame
    initial_equity: float

    @property
    def returns(self) -> pd.Series:
        """Net simple return of each bar (the first bar is 0: nothing is held yet)."""
        previous = self.equity.shift(1).fillna(self.initial_equity)
        returns: pd.Series = self.equity / previous - 1.0
        return returns

    @property
    def total_costs(self) -> float:
        return float(self.costs.to_numpy().sum())

    @property
    def gross_exposure(self) -> pd.Series:
        exposure: pd.Series = self.weights.abs().sum(axis=1)
        return exposure

    @property
    def net_exposure(self) -> pd.Series:
        exposure: pd.Series = self.weights.sum(axis=1)
        return exposure


def _segment_returns(exec_price: FloatArray, close: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Return before the trade (previous close to fill) and after it (fill to close)."""
    before = np.zeros_like(close)
    before[1:] = exec_price[1:] / close[:-1] - 1.0
    after = close / exec_price - 1.0
    return before, after


def _executed_targets(targets: FloatArray) -> FloatArray:
    """Targets shifted one bar: what bar t trades to was decided at bar t-1's close."""
    executed = np.zeros_like(targets)
    executed[1:] = targets[:-1]
    return executed


def _expand(prices: FloatArray, ndim: int) -> FloatArray:
    """Insert portfolio axes so ``(bars, symbols)`` prices broadcast against the targets."""
    while prices.ndim < ndim:
        prices = np.expand_dims(prices, 1)
    return prices


def _closed_form(
    exec_price: FloatArray,
    close: FloatArray,
    targets: FloatArray,
    costs: CostModel,
    initial_equity: float,
) -> SimulationArrays:
    # Every pass writes into one of a few buffers, reused as they fall free: on a large grid
    # the time goes to memory, and a fresh array costs its page faults (more than the math).
    before, after = _segment_returns(exec_price, close)
    ndim = targets.ndim
    held = _executed_targets(targets)
    # Weights at the end of each bar: w (1 + r_after) / (1 + Σ w r_after).
    scratch = np.multiply(held, _expand(after, ndim))
    growth = sum_symbols_into(scratch, np.empty(held.shape[:-1]))
    growth += 1.0
    np.multiply(held, _expand(1.0 + after, ndim), out=scratch)
    scratch /= growth[..., None]
    # Weights just before the next bar's trade: end weights drifted by r_before.
    drifted = np.zeros_like(held)
    np.multiply(scratch[:-1], _expand(before[1:], ndim), out=drifted[1:])
    value_before = np.ones_like(growth)
    value_before[1:] += sum_symbols(drifted[1:])
    np.multiply(scratch[:-1], _expand(1.0 + before[1:], ndim), out=drifted[1:])
    drifted[1:] /= value_before[1:, ..., None]
    kept = linear_rebalance_cost(drifted, held, costs.linear_rate, scratch)
    np.subtract(1.0, kept, out=kept)
    # Equity: each bar grows by (1 + before) (1 - cost) (1 + after).
    growth *= kept
    growth *= value_before
    equity = np.cumprod(growth, axis=0, out=growth)
    equity *= initial_equity
    pre_trade = np.empty_like(equity)
    pre_trade[0] = initial_equity
    pre_trade[1:] = equity[:-1]
    pre_trade *= value_before
    traded = np.multiply(held, kept[..., None], out=scratch)
    traded -= drifted
    paid = np.abs(traded)
    paid *= costs.linear_rate
    paid *= pre_trade[..., None]
    kept *= pre_trade
    units = np.multiply(held, kept[..., None], out=drifted)
    units /= _expand(exec_price, ndim)
    return SimulationArrays(equity=equity, weights=held, traded=traded, costs=paid, units=units)


def _stepwise(
    exec_price: FloatArray,
    close: FloatArray,
    targets: FloatArray,
    costs: CostModel,
    initial_equity: float,
    dollar_volume: FloatArray,
) -> SimulationArrays:
    before, after = _segment_returns(exec_price, close)
    before, after = _expand(before, targets.ndim), _expand(after, targets.ndim)
    volume = _expand(dollar_volume, targets.ndim)
    price = _expand(exec_price, targets.ndim)
    equity = np.empty(targets.shape[:-1])
    weights = np.zeros_like(targets)
    traded = np.zeros_like(targets)
    paid = np.zeros_like(targets)
    units = np.zeros_like(targets)
    equity[0] = initial_equity
    end_weights = np.zeros(targets.shape[1:])
    cap = costs.volume_cap
    for t in range(1, targets.shape[0]):
        gain_before = sum_symbols(end_weights * before[t])
        pre_trade = equity[t - 1] * (1.0 + gain_before)
        drifted = end_weights * (1.0 + before[t]) / (1.0 + gain_before)[..., None]
        limit = np.inf if cap is None else cap * volume[t] / pre_trade[..., None]
        cost = np.zeros(targets.shape[1:-1])
        for _ in range(100):
            change = np.clip(targets[t - 1] * (1.0 - cost)[..., None] - drifted, -limit, limit)
            size = np.abs(change)
            updated = sum_symbols(size * costs.rate(size * pre_trade[..., None], volume[t]))
            done = np.max(np.abs(updated - cost), initial=0.0) <= 1e-16
            cost = updated
            if done:
                break
        change = np.clip(targets[t - 1] * (1.0 - cost)[..., None] - drifted, -limit, limit)
        size = np.abs(change)
        post_trade = pre_trade * (1.0 - cost)
        held = (drifted + change) / (1.0 - cost)[..., None]
        gain_after = sum_symbols(held * after[t])
        equity[t] = post_trade * (1.0 + gain_after)
        end_weights = held * (1.0 + after[t]) / (1.0 + gain_after)[..., None]
        weights[t], traded[t] = held, change
        paid[t] = size * costs.rate(size * pre_trade[..., None], volume[t]) * pre_trade[..., None]
        units[t] = held * post_trade[..., None] / price[t]
    return SimulationArrays(equity=equity, weights=weights, traded=traded, costs=paid, units=units)


def simulate(
    exec_price: FloatArray,
    close: FloatArray,
    targets: FloatArray,
    costs: CostModel,
    initial_equity: float = 1.0,
    dollar_volume: FloatArray | None = None,
    method: Method = "auto",
) -> SimulationArrays:
    """The engine on raw arrays: prices ``(bars, symbols)``, targets ``(bars, ..., symbols)``."""
    if (
        targets.ndim < 2
        or targets.shape[0] != close.shape[0]
        or targets.shape[-1] != close.shape[1]
    ):
        raise InvalidInputError(
            f"targets of shape {targets.shape} do not match prices of shape {close.shape}"
        )
    if exec_price.shape != close.shape:
        raise InvalidInputError("execution prices and closes must have the same shape")
    if not np.all(np.isfinite(targets)):
        bar = int(np.argmax(~np.isfinite(targets).reshape(len(targets), -1).all(axis=1)))
        raise InvalidInputError(f"target weights must be finite; bar {bar} is not")
    if not (np.isfinite(initial_equity) and initial_equity > 0):
        raise InvalidInputError(f"initial equity must be positive, got {initial_equity}")
    needs_steps = costs.volume_cap is not None or costs.impact_coefficient > 0
    if method == "closed_form" and needs_steps:
        raise InvalidInputError("impact and volume caps need method='stepwise' or 'auto'")
    if method == "stepwise" or (method == "auto" and needs_steps):
        if needs_steps and dollar_volume is None:
            raise InvalidInputError("impact and volume caps need the bars' dollar volume")
        volume = np.full_like(close, np.inf) if dollar_volume is None else dollar_volume
        return _stepwise(exec_price, close, targets, costs, initial_equity, volume)
    return _closed_form(exec_price, close, targets, costs, initial_equity)


def _aligned_targets(panel: MarketPanel, targets: pd.DataFrame, costs: CostModel) -> FloatArray:
    if not targets.index.equals(panel.index):
        raise InvalidInputError("target weights must have exactly the panel's bar times")
    if tuple(str(c) for c in targets.columns) != panel.symbols:
        raise InvalidInputError(
            f"target weight columns {list(targets.columns)} differ from the panel's "
            f"symbols {list(panel.symbols)}"
        )
    if costs.symbols != panel.symbols:
        raise InvalidInputError(
            f"the cost model covers {list(costs.symbols)}, the panel {list(panel.symbols)}"
        )
    values: FloatArray = targets.to_numpy(dtype=np.float64)
    return values


def run_vectorized(
    panel: MarketPanel,
    targets: pd.DataFrame,
    costs: CostModel,
    initial_equity: float = 1.0,
    fill: Fill = "open",
    method: Method = "auto",
) -> BacktestResult:
    """Backtest ``targets`` (decided at each bar's close) on ``panel`` with ``costs``."""
    weights = _aligned_targets(panel, targets, costs)
    arrays = simulate(
        panel.execution_prices(fill).to_numpy(dtype=np.float64),
        panel.close.to_numpy(dtype=np.float64),
        weights,
        costs,
        initial_equity,
        panel.dollar_volume.to_numpy(dtype=np.float64),
        method,
    )
    index, columns = panel.index, panel.close.columns

    def frame(values: FloatArray) -> pd.DataFrame:
        return pd.DataFrame(values, index=index, columns=columns)

    return BacktestResult(
        equity=pd.Series(arrays.equity, index=index, name="equity"),
        weights=frame(arrays.weights),
        turnover=frame(np.abs(arrays.traded)),
        costs=frame(arrays.costs),
        positions=frame(arrays.units),
        initial_equity=initial_equity,
    )
