"""Real market history that ships inside installed PyPI packages: offline data, no network.

What ships (and what does not):

=========  =====  ======================  =======================================  ===========
symbol     bars   span                    package (data file)                      prices
=========  =====  ======================  =======================================  ===========
SPX        1d     1999-01-04..2018-12-31  arch 8.0.0 (``arch/data/sp500``)           index
NDX        1d     1999-01-04..2018-12-31  arch 8.0.0 (``arch/data/nasdaq``)          index
AAPL       1d     2000-03-01..2013-03-01  bokeh_sampledata (``stocks``)              adjusted
MSFT       1d     2000-03-01..2013-03-01  bokeh_sampledata (``stocks``)              adjusted
IBM        1d     2000-03-01..2013-03-01  bokeh_sampledata (``stocks``)              adjusted
GOOGL      1d     2009-05-22..2018-08-29  gym-anytrading 2.0.0 (``STOCKS_GOOGL``)    adjusted
EUR-USD    1h     2017-01-01..2017-12-29  gym-anytrading 2.0.0 (``FOREX_EURUSD_1H``) ask side
=========  =====  ======================  =======================================  ===========

``NDX`` is served from the NASDAQ *Composite* history (the catalogue names it so). No package
we can install ships multi-year crypto or other FX history: the synthetic market stands in for
those (see ``quantdesk.data.sources.embedded``).

Conventions applied on the way in, so bundled bars look like any venue's:

- Daily bars are labelled with the session date at 00:00 UTC and become available at that
  session's close (``calendars.bar_available_at``), the same rule the venues follow.
- Equity OHLC are scaled by ``adj_close / close`` so splits and dividends do not show up as
  price jumps; volume is left as reported. Index levels need no adjustment.
- The EUR-USD file's timestamps are UTC (its first bar opens Sunday 22:00, the FX week's start
  in winter); its volume is the data vendor's tick volume.
- Rows whose prices contradict each other are kept: the quality gate judges them, not us.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from quantdesk.data.bars import empty_bar_frame, normalize_bar_frame
from quantdesk.data.calendars import bar_available_at
from quantdesk.data.catalog import get_instrument
from quantdesk.data.sources.base import check_granularity, check_range
from quantdesk.data.sources.venue_bars import as_granularity
from quantdesk.domain import Granularity, Instrument, UnknownSymbolError, Venue

_OHLCV = ("open", "high", "low", "close", "volume")


@dataclass(frozen=True, slots=True)
class BundledDataset:
    """One real series shipped in a package: where it comes from and how to load it."""

    symbol: str
    granularity: Granularity
    package: str
    description: str
    load: Callable[[], pd.DataFrame]  # -> open_time (UTC) + OHLCV columns, unsorted allowed


def _adjusted(frame: pd.DataFrame, adj_close: pd.Series) -> pd.DataFrame:
    """OHLC scaled by the adjustment factor of each day; volume untouched."""
    factor = (adj_close / frame["close"]).to_numpy()
    out = frame.copy()
    for column in ("open", "high", "low", "close"):
        out[column] = out[column].to_numpy() * factor
    return out


def _load_arch(module: str) -> pd.DataFrame:
    import importlib

    data = importlib.import_module(f"arch.data.{module}").load()
    return pd.DataFrame(
        {
            "open_time": pd.to_datetime(data.index).tz_localize("UTC"),
            "open": data["Open"].to_numpy(),
            "high": data["High"].to_numpy(),
            "low": data["Low"].to_numpy(),
            "close": data["Close"].to_numpy(),
            "volume": data["Volume"].to_numpy(dtype="float64"),
        }
    )


def _load_bokeh(ticker: str) -> pd.DataFrame:
    from bokeh_sampledata import stocks

    data = getattr(stocks, ticker)
    frame = pd.DataFrame(
        {
            "open_time": pd.to_datetime(data["date"]).tz_localize("UTC"),
            **{c: np.asarray(data[c], dtype="float64") for c in _OHLCV},
        }
    )
    return _adjusted(frame, pd.Series(np.asarray(data["adj_close"], dtype="float64")))


def _load_googl() -> pd.DataFrame:
    from gym_anytrading import datasets

    data = datasets.STOCKS_GOOGL
    frame = pd.DataFrame(
        {
            "open_time": pd.to_datetime(data.index).tz_localize("UTC"),
            **{c: data[c.capitalize()].to_numpy(dtype="float64") for c in _OHLCV},
        }
    )
    return _adjusted(frame, pd.Series(data["Adj Close"].to_numpy(dtype="float64")))


def _load_eurusd_hourly() -> pd.DataFrame:
    from gym_anytrading import datasets

    data = datasets.FOREX_EURUSD_1H_ASK
    return pd.DataFrame(
        {
            "open_time": pd.to_datetime(data.index, format="%d.%m.%Y %H:%M:%S.%f", utc=True),
            **{c: data[c.capitalize()].to_numpy(dtype="float64") for c in _OHLCV},
        }
    )


DATASETS: dict[tuple[str, Granularity], BundledDataset] = {
    (d.symbol, d.granularity): d
    for d in (
        BundledDataset("SPX", Granularity.D1, "arch", "S&P 500 index daily OHLCV",
                       lambda: _load_arch("sp500")),
        BundledDataset("NDX", Granularity.D1, "arch", "NASDAQ Composite index daily OHLCV",
                       lambda: _load_arch("nasdaq")),
        BundledDataset("AAPL", Granularity.D1, "bokeh_sampledata", "Apple daily, adjusted",
                       lambda: _load_bokeh("AAPL")),
        BundledDataset("MSFT", Granularity.D1, "bokeh_sampledata", "Microsoft daily, adjusted",
                       lambda: _load_bokeh("MSFT")),
        BundledDataset("IBM", Granularity.D1, "bokeh_sampledata", "IBM daily, adjusted",
                       lambda: _load_bokeh("IBM")),
        BundledDataset("GOOGL", Granularity.D1, "gym-anytrading", "Alphabet daily, adjusted",
                       _load_googl),
        BundledDataset("EUR-USD", Granularity.H1, "gym-anytrading", "EUR/USD hourly, ask side",
                       _load_eurusd_hourly),
    )
}  # fmt: skip


def has_bundled(symbol: str, granularity: Granularity) -> bool:
    return (symbol, granularity) in DATASETS


@functools.lru_cache(maxsize=16)
def _series(symbol: str, granularity: Granularity) -> pd.DataFrame:
    """The whole shipped series as canonical bars (loaded once per process)."""
    dataset = DATASETS[(symbol, granularity)]
    raw = dataset.load().sort_values("open_time", kind="stable").reset_index(drop=True)
    instrument = get_instrument(symbol)
    open_times = pd.DatetimeIndex(raw["open_time"])
    frame = raw.assign(
        symbol=symbol,
        venue=Venue.BUNDLED.value,
        granularity=granularity.value,
        available_at=bar_available_at(instrument.calendar, granularity, open_times),
    )
    return normalize_bar_frame(frame)


class BundledSource:
    """Real history from installed packages as a :class:`~quantdesk.data.sources.base.BarSource`."""

    venue = Venue.BUNDLED

    def __repr__(self) -> str:
        return "BundledSource()"

    def list_instruments(self) -> list[Instrument]:
        return sorted({get_instrument(s) for s, _ in DATASETS}, key=lambda i: i.symbol)

    def granularities(self, symbol: str) -> frozenset[Granularity]:
        return frozenset(g for s, g in DATASETS if s == symbol)

    def fetch_bars(
        self, symbol: str, granularity: Granularity | str, start: datetime, end: datetime
    ) -> pd.DataFrame:
        get_instrument(symbol)  # an unknown symbol fails the same way everywhere
        served = self.granularities(symbol)
        if not served:
            shipped = ", ".join(sorted({s for s, _ in DATASETS}))
            raise UnknownSymbolError(
                f"no bundled history for {symbol!r}; bundled symbols: {shipped} "
                "(use the synthetic or embedded source for the others)"
            )
        bar_size = as_granularity(granularity)
        check_granularity(bar_size, served, f"bundled history of {symbol}")
        start_utc, end_utc = check_range(start, end)
        series = _series(symbol, bar_size)
        times = series["open_time"]
        window = series[(times >= pd.Timestamp(start_utc)) & (times < pd.Timestamp(end_utc))]
        if window.empty:
            return empty_bar_frame()
        return window.reset_index(drop=True)
