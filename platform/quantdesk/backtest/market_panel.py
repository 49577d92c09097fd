"""Aligned wide price frames (bars x symbols) that both backtest engines read.

The lake hands out long canonical bar frames; engines want one matrix per field. Symbols on
different calendars (NYSE, FX 24/5, crypto 24/7) leave holes on the union of bar times: a hole
is a bar where that market did not trade, so its price is carried forward (a zero return) and
its volume is zero (a volume cap then blocks trading it). The panel starts at the first bar
where every symbol has traded, so no weight is ever put on a price that did not exist yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from quantdesk.data.bars import normalize_bar_frame
from quantdesk.domain import InvalidInputError

Fill = Literal["open", "close"]


@dataclass(frozen=True, slots=True)
class MarketPanel:
    """Open and close prices and dollar volume, one row per bar, one column per symbol."""

    open: pd.DataFrame
    close: pd.DataFrame
    dollar_volume: pd.DataFrame

    def __post_init__(self) -> None:
        index, columns = self.close.index, self.close.columns
        if len(index) < 2:
            raise InvalidInputError(f"a backtest needs at least 2 bars, got {len(index)}")
        if not (index.is_monotonic_increasing and index.is_unique):
            raise InvalidInputError("panel bar times must be unique and increasing")
        if columns.has_duplicates or len(columns) == 0:
            raise InvalidInputError("panel symbols must be unique and at least one")
        for name in ("open", "dollar_volume"):
            frame: pd.DataFrame = getattr(self, name)
            if not (frame.index.equals(index) and frame.columns.equals(columns)):
                raise InvalidInputError(f"panel {name} is not aligned with close")
        for name in ("open", "close"):
            values = getattr(self, name).to_numpy(dtype=np.float64)
            if not np.all(np.isfinite(values) & (values > 0)):
                raise InvalidInputError(f"panel {name} prices must be finite and positive")
        volume = self.dollar_volume.to_numpy(dtype=np.float64)
        if not np.all(np.isfinite(volume) & (volume >= 0)):
            raise InvalidInputError("panel dollar volume must be finite and >= 0")

    @classmethod
    def from_bars(cls, bars: pd.DataFrame) -> MarketPanel:
        """Pivot canonical bars (one bar size) into an aligned panel; see the module notes."""
        frame = normalize_bar_frame(bars)
        if frame.empty:
            raise InvalidInputError("no bars to backtest")
        if frame["granularity"].nunique() != 1:
            raise InvalidInputError("a panel holds one bar size; got several granularities")
        frame = frame.assign(dollar_volume=frame["volume"] * frame["close"])
        symbols = list(dict.fromkeys(frame["symbol"].astype(str)))

        def wide(column: str) -> pd.DataFrame:
            table = frame.pivot(index="open_time", columns="symbol", values=column)
            table.columns = table.columns.astype(str)
            return table.loc[:, symbols].astype(np.float64)

        close, open_, volume = wide("close"), wide("open"), wide("dollar_volume")
        first = int(np.argmax(close.notna().all(axis=1).to_numpy()))
        if not close.iloc[first].notna().all():
            raise InvalidInputError("the symbols never all have a bar at the same time")
        traded = close.notna()
        close = close.ffill().iloc[first:]
        open_ = open_.where(traded, close).iloc[first:]
        volume = volume.where(traded, 0.0).iloc[first:]
        return cls(open=open_, close=close, dollar_volume=volume)

    @classmethod
    def from_closes(cls, close: pd.DataFrame, dollar_volume: float = 1e12) -> MarketPanel:
        """A panel from closes alone (open = previous close): for tests and close-only data."""
        open_ = close.shift(1).fillna(close.iloc[0])
        volume = pd.DataFrame(dollar_volume, index=close.index, columns=close.columns)
        return cls(
            open=open_.astype(np.float64), close=close.astype(np.float64), dollar_volume=volume
        )

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(str(c) for c in self.close.columns)

    @property
    def index(self) -> pd.Index:
        return self.close.index

    def execution_prices(self, fill: Fill) -> pd.DataFrame:
        """The price a trade executed at bar t gets: that bar's open or its close."""
        if fill == "open":
            return self.open
        if fill == "close":
            return self.close
        raise InvalidInputError(f"fill must be 'open' or 'close', got {fill!r}")

    def slice(self, start: int, stop: int) -> MarketPanel:
        """Bars ``[start, stop)`` by position."""
        return MarketPanel(
            open=self.open.iloc[start:stop],
            close=self.close.iloc[start:stop],
            dollar_volume=self.dollar_volume.iloc[start:stop],
        )
