"""Bars of many symbols as (time x symbol) arrays, so every indicator runs once for all symbols.

Each symbol is one column, its bars top-aligned: row ``i`` of a column is that symbol's
``i``-th bar, and rows past its last bar are NaN. Column-wise rolling windows and exponential
filters therefore never mix symbols, and a symbol cut at a later time only loses rows at the
bottom of its column, which is what makes trailing computations causal by construction.

``known_at`` is when each row's inputs were all known: the running maximum of the bars'
``available_at`` (a bar corrected later makes every later value known no earlier than the
correction). The benchmark's close is aligned to each symbol row *as of* that row's
``known_at``: the benchmark's last value known by then, never a later one (crypto on a
Saturday sees Friday's index close).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from quantdesk.domain import InvalidInputError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

__all__ = ["FloatArray", "Panel", "build_panel"]


@dataclass(frozen=True, slots=True, eq=False)
class Panel:
    """OHLCV of many symbols as (time x symbol) float arrays; see the module docstring.

    ``rows``/``cols`` give, for each input bar (in input order), its cell in the arrays.
    ``memo`` caches intermediates shared by several features (e.g. the MACD line).
    """

    symbols: tuple[str, ...]
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    benchmark_close: FloatArray | None
    known_at: IntArray  # int64 ns since the epoch, running max per column; -1 past the end
    rows: IntArray
    cols: IntArray
    memo: dict[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        return self.close.shape[0], self.close.shape[1]

    def cached(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per panel: shared intermediates of a feature family."""
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]

    def flatten(self, values: FloatArray) -> FloatArray:
        """Per-bar values (input order) from a (time x symbol) array."""
        out: FloatArray = values[self.rows, self.cols]
        return out


def _grid(
    values: npt.NDArray[Any], rows: IntArray, cols: IntArray, shape: tuple[int, int]
) -> FloatArray:
    grid = np.full(shape, np.nan)
    grid[rows, cols] = values
    return grid


def _positions(symbols: pd.Series) -> tuple[IntArray, IntArray, tuple[str, ...]]:
    """Row (bar index within its symbol) and column (symbol index) of bars sorted by symbol."""
    codes, names = pd.factorize(symbols, sort=False)
    cols = codes.astype(np.int64)
    starts = np.r_[0, np.flatnonzero(np.diff(cols)) + 1].astype(np.int64)
    counts = np.diff(np.r_[starts, len(cols)])
    rows = np.arange(len(cols), dtype=np.int64) - np.repeat(starts, counts)
    return rows, cols, tuple(str(n) for n in names)


def utc_nanos(times: pd.Series) -> IntArray:
    """Nanoseconds since the epoch of a UTC datetime column, without boxing each value."""
    out: IntArray = pd.DatetimeIndex(times).as_unit("ns").asi8
    return out


def _known_at(
    available: IntArray, rows: IntArray, cols: IntArray, shape: tuple[int, int]
) -> IntArray:
    grid = np.full(shape, -1, dtype=np.int64)
    grid[rows, cols] = available
    known: IntArray = np.maximum.accumulate(grid, axis=0)
    known[grid < 0] = -1
    return known


def _as_of_close(bench: pd.DataFrame, known_at: IntArray) -> FloatArray:
    """The benchmark's last close known at each cell's ``known_at`` (NaN before its first)."""
    bench_known = np.maximum.accumulate(utc_nanos(bench["available_at"]))
    closes = bench["close"].to_numpy(dtype=np.float64)
    index = np.searchsorted(bench_known, known_at, side="right") - 1
    aligned = np.where(index >= 0, closes[np.clip(index, 0, None)], np.nan)
    aligned[known_at < 0] = np.nan
    result: FloatArray = aligned.astype(np.float64)
    return result


def build_panel(bars: pd.DataFrame, benchmark_symbol: str | None) -> Panel:
    """The panel of a canonical bar frame sorted by (symbol, open_time), one bar size.

    ``benchmark_symbol`` must then be among the symbols (``None``: no cross-asset inputs).
    """
    if bars["granularity"].nunique() > 1:
        sizes = sorted(bars["granularity"].unique())
        raise InvalidInputError(f"features need one bar size per call, got {sizes}")
    if bars.duplicated(["symbol", "open_time"]).any():
        raise InvalidInputError("bar frame has two bars for one (symbol, open_time)")
    values = bars[["open", "high", "low", "close", "volume"]].to_numpy(dtype=np.float64)
    if not np.isfinite(values).all():
        raise InvalidInputError("bar frame has missing or infinite prices or volumes")
    rows, cols, names = _positions(bars["symbol"])
    shape = (int(rows.max()) + 1 if len(rows) else 0, len(names))
    available = utc_nanos(bars["available_at"])
    known_at = _known_at(available, rows, cols, shape)
    benchmark: FloatArray | None = None
    if benchmark_symbol is not None:
        bench = bars[bars["symbol"] == benchmark_symbol]
        if bench.empty:
            raise InvalidInputError(
                f"benchmark {benchmark_symbol!r} has no bars: the cross-asset features need it"
            )
        benchmark = _as_of_close(bench, known_at)
    open_, high, low, close, volume = (_grid(values[:, i], rows, cols, shape) for i in range(5))
    return Panel(names, open_, high, low, close, volume, benchmark, known_at, rows, cols)
