"""Event-driven backtest: bar by bar through a pluggable decision step and risk gate.

The loop is the one a live desk runs: at each bar the pending orders fill (at the bar's open,
or its close with ``fill="close"``), the book is marked at the close, then the decision step
sees only bars up to this close and the book, proposes target weights, and the risk gate
approves or changes them; what it approves fills at the next bar. The book is held in units
and cash, not weights, so agreeing with the vectorized engine (a parity test) checks both.

Fills follow the shared cost model: after a fill the holdings are the target weights of the
post-cost equity, each trade capped by ``volume_cap`` of the bar's dollar volume; the fee is
the cost model's charge on the notional actually traded.

The state arrays may carry leading portfolio axes (``units`` of shape ``(*portfolios,
symbols)``), so a parameter grid steps through the bars together, each portfolio with its own
book; a decision step then returns targets of that shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from quantdesk.backtest.costs import CostModel, linear_rebalance_cost, sum_symbols
from quantdesk.backtest.market_panel import Fill, MarketPanel
from quantdesk.domain import InvalidInputError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
DUST = 1e-12  # trades smaller than this fraction of equity are rounding noise, not orders


@dataclass(frozen=True, slots=True)
class BarView:
    """What a decision may look at on bar ``index``: bars ``0..index`` and nothing later."""

    index: int
    time: pd.Timestamp
    open: FloatArray  # (index + 1, symbols), read-only
    close: FloatArray
    dollar_volume: FloatArray


@dataclass(frozen=True, slots=True)
class Book:
    """The account at the bar's close: cash, units per symbol, the closes, and equity."""

    cash: FloatArray
    units: FloatArray
    close: FloatArray
    equity: FloatArray

    @property
    def weights(self) -> FloatArray:
        """Each holding's value as a fraction of equity (computed on demand)."""
        result: FloatArray = self.units * self.close / self.equity[..., None]
        return result


@dataclass(frozen=True, slots=True)
class Execution:
    """One executed trade (signed quantity) and the fee paid for it."""

    bar: int
    time: pd.Timestamp
    portfolio: tuple[int, ...]
    symbol: str
    quantity: float
    price: float
    fee: float


class DecisionStep(Protocol):
    """Proposes target weights at a bar's close (the decision engine plugs in here)."""

    def decide(self, bar: BarView, book: Book) -> FloatArray: ...


class RiskGate(Protocol):
    """Approves, trims or refuses proposed target weights before they become orders."""

    def review(self, targets: FloatArray, bar: BarView, book: Book) -> FloatArray: ...


class PassThroughRisk:
    """Approves every target as proposed."""

    def review(self, targets: FloatArray, bar: BarView, book: Book) -> FloatArray:
        return targets


@dataclass(frozen=True, slots=True)
class GrossExposureLimit:
    """Scales a proposal down so the sum of absolute weights stays within ``max_gross``."""

    max_gross: float

    def review(self, targets: FloatArray, bar: BarView, book: Book) -> FloatArray:
        gross = np.sum(np.abs(targets), axis=-1, keepdims=True)
        scale = np.where(gross > self.max_gross, self.max_gross / np.maximum(gross, 1e-300), 1.0)
        result: FloatArray = targets * scale
        return result


class PrecomputedWeights:
    """Replays a weight matrix bar by bar (for parity with the vectorized engine)."""

    def __init__(self, weights: FloatArray) -> None:
        self._weights = np.asarray(weights, dtype=np.float64)

    def decide(self, bar: BarView, book: Book) -> FloatArray:
        row: FloatArray = self._weights[bar.index]
        return row


class SmaCrossoverStep:
    """The SMA crossover decided incrementally, for a grid of (fast, slow) windows at once.

    Running sums make each bar O(portfolios x symbols): long ``1 / symbols`` of equity per
    symbol while its fast average is above the slow one, flat before the slow window fills.
    Targets have shape ``(len(fast), symbols)``.
    """

    def __init__(self, fast: IntArray, slow: IntArray, n_bars: int, n_symbols: int) -> None:
        self._fast = np.asarray(fast, dtype=np.int64)
        self._slow = np.asarray(slow, dtype=np.int64)
        if self._fast.shape != self._slow.shape or np.any(self._fast >= self._slow):
            raise InvalidInputError("SMA grid needs matching windows with fast < slow")
        self._sums = np.zeros((n_bars + 1, n_symbols))
        self._sleeve = 1.0 / n_symbols

    def decide(self, bar: BarView, book: Book) -> FloatArray:
        t = bar.index
        self._sums[t + 1] = self._sums[t] + bar.close[t]
        now = self._sums[t + 1]
        fast = (now - self._sums[np.maximum(t + 1 - self._fast, 0)]) / self._fast[:, None]
        slow = (now - self._sums[np.maximum(t + 1 - self._slow, 0)]) / self._slow[:, None]
        ready = (t + 1 >= self._slow)[:, None]
        result: FloatArray = np.where(ready & (fast > slow), self._sleeve, 0.0)
        return result


@dataclass(frozen=True, slots=True)
class EventBacktestResult:
    """Equity at each close, units and weights after each bar's fills, fees, and fills."""

    index: pd.Index
    symbols: tuple[str, ...]
    equity: FloatArray  # (bars, *portfolios)
    units: FloatArray  # (bars, *portfolios, symbols)
    weights: FloatArray  # held right after each bar's fills
    fees: FloatArray  # currency per symbol per bar
    fills: tuple[Execution, ...]
    initial_equity: float

    def equity_series(self) -> pd.Series:
        """The equity curve of a single-portfolio run."""
        if self.equity.ndim != 1:
            raise InvalidInputError("equity_series is for single-portfolio runs")
        return pd.Series(self.equity, index=self.index, name="equity")


class EventDrivenEngine:
    """Steps through a :class:`MarketPanel` bar by bar; see the module notes for the loop."""

    def __init__(
        self,
        panel: MarketPanel,
        costs: CostModel,
        initial_equity: float = 1.0,
        fill: Fill = "open",
        record_fills: bool = True,
    ) -> None:
        if costs.symbols != panel.symbols:
            raise InvalidInputError(
                f"the cost model covers {list(costs.symbols)}, the panel {list(panel.symbols)}"
            )
        if not (np.isfinite(initial_equity) and initial_equity > 0):
            raise InvalidInputError(f"initial equity must be positive, got {initial_equity}")
        self._panel = panel
        self._costs = costs
        self._initial = float(initial_equity)
        self._exec = panel.execution_prices(fill).to_numpy(dtype=np.float64)
        self._open = _read_only(panel.open.to_numpy(dtype=np.float64))
        self._close = _read_only(panel.close.to_numpy(dtype=np.float64))
        self._volume = _read_only(panel.dollar_volume.to_numpy(dtype=np.float64))
        self._record = record_fills

    def _execute(
        self, targets: FloatArray, cash: FloatArray, units: FloatArray, t: int
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Fill ``targets`` at bar ``t``'s execution price: new cash, units, fees."""
        price, volume = self._exec[t], self._volume[t]
        held = units * price
        equity = cash + sum_symbols(held)
        current = held / equity[..., None]
        if np.all(np.abs(current - targets) <= DUST):
            return cash, units, np.zeros_like(units)  # already there: no order is sent
        cap = self._costs.volume_cap
        if cap is None:
            if self._costs.impact_coefficient == 0:
                cost = linear_rebalance_cost(current, targets, self._costs.linear_rate)
            else:
                cost = self._costs.rebalance_cost(current, targets, equity, volume)
            trade = targets * (equity * (1.0 - cost))[..., None] - held
            return self._settle(trade, targets == 0.0, equity, cash, units, price, volume)
        limit = cap * volume
        fee_total = np.zeros_like(equity)
        for _ in range(100):
            trade = np.clip(targets * (equity - fee_total)[..., None] - held, -limit, limit)
            fees = self._costs.cost_of_notional(trade, volume)
            updated = sum_symbols(fees)
            done = np.all(np.abs(updated - fee_total) <= 1e-15 * np.abs(equity))
            fee_total = updated
            if done:
                break
        trade = np.clip(targets * (equity - fee_total)[..., None] - held, -limit, limit)
        closing = (targets == 0.0) & (trade == -held)
        return self._settle(trade, closing, equity, cash, units, price, volume)

    def _settle(
        self,
        trade: FloatArray,
        closing: NDArray[np.bool_],
        equity: FloatArray,
        cash: FloatArray,
        units: FloatArray,
        price: FloatArray,
        volume: FloatArray,
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Book the trades: float dust (under 1e-12 of equity) is not sent, and a position
        closed in full (``closing``) goes to exactly zero units, not a rounding residue."""
        dust = np.abs(trade) <= DUST * np.abs(equity)[..., None]
        if dust.any():
            trade = np.where(dust, 0.0, trade)
        fees = self._costs.cost_of_notional(trade, volume)
        new_units = units + trade / price
        if closing.any():
            new_units[closing] = 0.0
        return cash - sum_symbols(trade) - sum_symbols(fees), _read_only(new_units), fees

    def run(self, decision: DecisionStep, risk: RiskGate | None = None) -> EventBacktestResult:
        """Run the loop; the targets' shape fixes the portfolio axes on the first bar."""
        gate = risk if risk is not None else PassThroughRisk()
        index = self._panel.index
        times = list(index)
        n_bars, n_symbols = self._close.shape
        symbols = self._panel.symbols
        pending: FloatArray | None = None
        cash: FloatArray = np.array(self._initial)
        units: FloatArray = _read_only(np.zeros(n_symbols))
        no_fees = units
        cash_rows: list[FloatArray] = []
        equity_rows: list[FloatArray] = []
        unit_rows: list[FloatArray] = []
        fee_rows: list[FloatArray] = []
        fills: list[Execution] = []
        for t in range(n_bars):
            fees = no_fees
            if pending is not None:
                if pending.shape != units.shape:
                    cash = np.broadcast_to(cash, pending.shape[:-1]).copy()
                    units = _read_only(np.broadcast_to(units, pending.shape).copy())
                before = units
                cash, units, fees = self._execute(pending, cash, units, t)
                if self._record:
                    traded = units - before
                    if traded.any():
                        fills.extend(self._fills(t, times[t], symbols, traded, fees))
            close = self._close[t]
            equity = cash + sum_symbols(units * close)
            book = Book(cash=cash, units=units, close=close, equity=equity)
            bar = BarView(
                index=t,
                time=times[t],
                open=self._open[: t + 1],
                close=self._close[: t + 1],
                dollar_volume=self._volume[: t + 1],
            )
            proposal = np.asarray(decision.decide(bar, book), dtype=np.float64)
            approved = np.asarray(gate.review(proposal, bar, book), dtype=np.float64)
            if approved.shape[-1:] != (n_symbols,) or not np.isfinite(approved).all():
                raise InvalidInputError(
                    f"bar {t}: targets must be finite with one weight per symbol, "
                    f"got shape {approved.shape}"
                )
            pending = approved
            cash_rows.append(cash)
            equity_rows.append(equity)
            unit_rows.append(units)
            fee_rows.append(fees)
        shape = unit_rows[-1].shape
        units_all = _stack(unit_rows, shape)
        cash_all = _stack(cash_rows, shape[:-1])
        exec_price = self._exec.reshape((n_bars,) + (1,) * (len(shape) - 1) + (n_symbols,))
        held = units_all * exec_price
        post_trade = cash_all + sum_symbols(held)
        return EventBacktestResult(
            index=index,
            symbols=symbols,
            equity=_stack(equity_rows, shape[:-1]),
            units=units_all,
            weights=held / post_trade[..., None],
            fees=_stack(fee_rows, shape),
            fills=tuple(fills),
            initial_equity=self._initial,
        )

    def _fills(
        self,
        t: int,
        time: pd.Timestamp,
        symbols: tuple[str, ...],
        quantity: FloatArray,
        fees: FloatArray,
    ) -> list[Execution]:
        price = self._exec[t]
        traded = np.argwhere(quantity != 0)
        return [
            Execution(
                bar=t,
                time=time,
                portfolio=tuple(int(i) for i in where[:-1]),
                symbol=symbols[int(where[-1])],
                quantity=float(quantity[tuple(where)]),
                price=float(price[int(where[-1])]),
                fee=float(fees[tuple(where)]),
            )
            for where in traded
        ]


def _stack(rows: list[FloatArray], shape: tuple[int, ...]) -> FloatArray:
    """Stack per-bar rows, widening the few early ones taken before the portfolio axes."""
    return np.stack([row if row.shape == shape else np.broadcast_to(row, shape) for row in rows])


def _read_only(array: FloatArray) -> FloatArray:
    array.setflags(write=False)
    return array
