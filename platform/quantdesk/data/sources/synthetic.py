"""A seeded synthetic market: equities on NYSE sessions, FX 24/5 and crypto 24/7.

What it is for: a market with known properties for offline runs, tests and demos. Prices show
the stylized facts models meet in real data, and an optional *planted* predictable component
of known strength lets model tests check that a model finds what is there (and nothing when
nothing is).

How a series is made
--------------------
Every symbol has one latent log-price path on a common half-hour UTC grid that starts at
00:00 UTC on 1 January of ``SyntheticConfig.first_year`` (every bar boundary of every calendar,
09:30 New York included, falls on that grid). Bars of any size are *sampled* from that one
path on the symbol's own calendar (``quantdesk.data.calendars``), so a daily bar agrees with
the hourly bars inside it: open = path at the bar's first trading instant, close = path at its
last, high/low = extremes of the path in between plus a random intra-step excursion.

- **Activity.** Each half hour carries a variance weight: 1 while the calendar trades; for
  equities 0.08 outside sessions (overnight and weekend news, seen as the gap between a close
  and the next open); for FX 0 over the weekend (the price is frozen).
- **Volatility clustering.** A GARCH(1,1) variance per UTC day, driven by that day's
  standardized shock: ``h[d+1] = omega + (alpha * Z[d]**2 + beta) * h[d]``, with
  ``omega = h_bar * (1 - alpha - beta)`` so the unconditional variance is the symbol's target.
- **Fat tails.** The daily shocks ``Z`` are Student-t (``tail_dof``) scaled to unit variance.
  The day's move is spread over its half hours with a Brownian bridge on Gaussian intraday
  shocks, so the day's total is exactly ``sqrt(h * activity) * Z``.
- **Jumps.** Each half hour jumps with probability ``jump_intensity * activity / full day``
  (``jump_intensity`` jumps per full trading day), sized Normal(0, ``jump_scale`` * the
  symbol's average daily volatility).
- **Cross-asset correlation.** The shocks (daily and intraday) of symbol ``i`` are
  ``g_i * G + c_i * s_i * C_class + sqrt(1 - g_i**2 - c_i**2) * E_i``: one global factor, one
  factor per asset class and an idiosyncratic part. This is the factor form of the Cholesky
  decomposition of a block correlation matrix (``correlation_matrix``): within a class the
  correlation is ``*_correlation``, between equities and crypto ``cross_asset_correlation``,
  FX carries no global loading, and pairs quoted against the US dollar from the other side
  (``USD-JPY``, ``USD-CHF``) load negatively on the FX factor. Because each factor and each
  symbol has its own random stream, a symbol's bars never depend on which other symbols are
  in the universe.
- **Gaps.** Each bar is dropped with probability ``gap_rate`` (a missing bar, as venues have).
- **Volume.** Proportional to activity, log-normal noise, higher when the price moves more;
  always positive for a bar that exists.

Planted signal
--------------
With ``signal_strength = s``, every bar of ``signal_granularity`` on the symbol's calendar has
a published standard-normal value ``z[t]`` (:meth:`SyntheticMarket.signal_frame`, known when
bar ``t`` closes) and the next bar's close-to-close log return is
``r[t+1] = s * v[t+1] * z[t] + e[t+1]``, where ``e`` is everything above and ``v`` its
unconditional standard deviation over that interval. The best achievable correlation of a
forecast with the next return is then ``s / sqrt(1 + s**2)``
(:attr:`SyntheticMarket.theoretical_correlation`): exact where all intervals carry equal
activity (crypto, FX weekdays), slightly lower pooled over equity intervals of unequal length
(Mondays). ``s = 0`` leaves a driftless random walk with GARCH volatility.

Determinism
-----------
Random numbers come from streams seeded with ``hashlib.blake2b`` of (seed, stream name,
symbol, year), never Python's salted ``hash()``. Series are generated from the fixed start
year, year chunk by year chunk, and then cut, so the same seed and symbol give the same bars
whatever range is asked: ``[a, c)`` equals ``[a, b)`` followed by ``[b, c)``. Ranges before the
first year yield no bars; ends after :data:`LAST_YEAR` are refused.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt
import pandas as pd

from quantdesk.data.bars import empty_bar_frame, normalize_bar_frame
from quantdesk.data.calendars import expected_open_times, trading_bounds, trading_mask
from quantdesk.data.catalog import get_instrument
from quantdesk.data.sources.base import check_granularity, check_range
from quantdesk.data.sources.venue_bars import as_granularity
from quantdesk.domain import (
    AssetClass,
    Granularity,
    Instrument,
    InvalidDateRangeError,
    InvalidInputError,
    TradingCalendar,
    UnknownSymbolError,
    Venue,
    require_utc,
)

__all__ = [
    "DEFAULT_UNIVERSE",
    "LAST_YEAR",
    "SUPPORTED_GRANULARITIES",
    "SymbolProfile",
    "SyntheticConfig",
    "SyntheticMarket",
    "SyntheticSource",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

SUPPORTED_GRANULARITIES: frozenset[Granularity] = frozenset(
    {Granularity.H1, Granularity.H6, Granularity.D1}
)
DEFAULT_UNIVERSE: tuple[str, ...] = (
    "AAPL",
    "MSFT",
    "SPY",
    "EUR-USD",
    "GBP-USD",
    "USD-JPY",
    "BTC-USD",
    "ETH-USD",
    "SOL-USD",
)
LAST_YEAR = 2049

STEP = timedelta(minutes=30)
_STEP_NS = int(STEP.total_seconds()) * 1_000_000_000
_STEPS_PER_DAY = 48
_OVERNIGHT_ACTIVITY = 0.08
_SESSION_STEPS = {
    TradingCalendar.NYSE: 13.0,
    TradingCalendar.FX_24_5: 48.0,
    TradingCalendar.CRYPTO_24_7: 48.0,
}
# Activity of a full trading day (session plus the overnight hours around it).
_FULL_DAY_ACTIVITY = {
    TradingCalendar.NYSE: 13.0 + 35.0 * _OVERNIGHT_ACTIVITY,
    TradingCalendar.FX_24_5: 48.0,
    TradingCalendar.CRYPTO_24_7: 48.0,
}
# Activity of an average year; sets the per-unit variance from a symbol's annual volatility.
_YEAR_ACTIVITY = {
    TradingCalendar.NYSE: 252 * 13.0 + (365.25 * 48 - 252 * 13.0) * _OVERNIGHT_ACTIVITY,
    TradingCalendar.FX_24_5: 365.25 * 48 * 5 / 7,
    TradingCalendar.CRYPTO_24_7: 365.25 * 48,
}
_VOLUME_NOISE = 0.35
_EXCURSION = 0.5


@dataclass(frozen=True, slots=True)
class SymbolProfile:
    """Where a synthetic series starts and how much it moves and trades."""

    start_price: float
    annual_volatility: float
    daily_volume: float


PROFILES: dict[str, SymbolProfile] = {
    "SPX": SymbolProfile(4000.0, 0.17, 3.5e9),
    "NDX": SymbolProfile(13000.0, 0.22, 2.5e9),
    "AAPL": SymbolProfile(150.0, 0.28, 6.0e7),
    "MSFT": SymbolProfile(250.0, 0.26, 2.5e7),
    "GOOGL": SymbolProfile(120.0, 0.30, 3.0e7),
    "IBM": SymbolProfile(140.0, 0.22, 4.0e6),
    "AMZN": SymbolProfile(130.0, 0.33, 4.0e7),
    "SPY": SymbolProfile(400.0, 0.17, 8.0e7),
    "EUR-USD": SymbolProfile(1.10, 0.07, 1.2e5),
    "GBP-USD": SymbolProfile(1.27, 0.08, 9.0e4),
    "USD-JPY": SymbolProfile(140.0, 0.09, 1.0e5),
    "AUD-USD": SymbolProfile(0.67, 0.10, 6.0e4),
    "USD-CHF": SymbolProfile(0.90, 0.07, 5.0e4),
    "BTC-USD": SymbolProfile(30000.0, 0.60, 2.0e4),
    "ETH-USD": SymbolProfile(2000.0, 0.75, 3.0e5),
    "SOL-USD": SymbolProfile(25.0, 1.00, 2.0e6),
}
_CLASS_PROFILE = {
    AssetClass.EQUITY: SymbolProfile(100.0, 0.25, 1.0e7),
    AssetClass.FX: SymbolProfile(1.0, 0.08, 5.0e4),
    AssetClass.CRYPTO: SymbolProfile(10.0, 0.80, 1.0e6),
}


@dataclass(frozen=True, slots=True)
class SyntheticConfig:
    """Everything that determines the synthetic market; equal configs give equal bars.

    ``jump_intensity`` is the expected number of jumps per full trading day; ``jump_scale``
    their standard deviation in multiples of the symbol's average daily volatility.
    ``gap_rate`` is the probability that a bar is missing. See the module docstring.
    """

    seed: int = 20150101
    symbols: tuple[str, ...] = DEFAULT_UNIVERSE
    signal_strength: float = 0.0
    signal_granularity: Granularity = Granularity.D1
    gap_rate: float = 0.001
    jump_intensity: float = 0.01
    jump_scale: float = 3.0
    garch_alpha: float = 0.09
    garch_beta: float = 0.89
    tail_dof: float = 7.0
    equity_correlation: float = 0.6
    fx_correlation: float = 0.5
    crypto_correlation: float = 0.7
    cross_asset_correlation: float = 0.15
    first_year: int = 2015

    def __post_init__(self) -> None:
        object.__setattr__(self, "symbols", tuple(self.symbols))
        object.__setattr__(self, "signal_granularity", Granularity(self.signal_granularity))
        for symbol in self.symbols:
            get_instrument(symbol)
        if len(set(self.symbols)) != len(self.symbols):
            raise InvalidInputError(f"synthetic universe lists a symbol twice: {self.symbols}")
        _require(math.isfinite(self.signal_strength), "signal_strength must be finite")
        _require(
            self.signal_granularity in SUPPORTED_GRANULARITIES,
            f"signal_granularity must be one of {_names(SUPPORTED_GRANULARITIES)}",
        )
        _require(0.0 <= self.gap_rate < 0.5, "gap_rate must be in [0, 0.5)")
        _require(0.0 <= self.jump_intensity <= 1.0, "jump_intensity must be in [0, 1]")
        _require(0.0 <= self.jump_scale <= 20.0, "jump_scale must be in [0, 20]")
        _require(
            self.garch_alpha >= 0 and self.garch_beta >= 0
            and self.garch_alpha + self.garch_beta < 1,
            "GARCH needs alpha >= 0, beta >= 0 and alpha + beta < 1",
        )  # fmt: skip
        _require(self.tail_dof > 2.0, "tail_dof must exceed 2 (finite variance)")
        for name in ("equity_correlation", "fx_correlation", "crypto_correlation"):
            value = getattr(self, name)
            _require(0.0 <= value < 1.0, f"{name} must be in [0, 1)")
        _require(
            0.0 <= self.cross_asset_correlation
            <= min(self.equity_correlation, self.crypto_correlation),
            "cross_asset_correlation must be in [0, min(equity, crypto correlation)]",
        )  # fmt: skip
        _require(1990 <= self.first_year <= LAST_YEAR, f"first_year must be in 1990..{LAST_YEAR}")

    @property
    def epoch(self) -> datetime:
        """Where every series starts: 00:00 UTC on 1 January of ``first_year``."""
        return datetime(self.first_year, 1, 1, tzinfo=UTC)

    def profile(self, symbol: str) -> SymbolProfile:
        """Start price, volatility and volume of ``symbol`` (by asset class if not listed)."""
        return PROFILES.get(symbol) or _CLASS_PROFILE[get_instrument(symbol).asset_class]

    def loadings(self, symbol: str) -> tuple[float, float, float]:
        """(global, signed class, idiosyncratic) loadings of ``symbol``'s shocks."""
        instrument = get_instrument(symbol)
        within = {
            AssetClass.EQUITY: self.equity_correlation,
            AssetClass.FX: self.fx_correlation,
            AssetClass.CRYPTO: self.crypto_correlation,
        }[instrument.asset_class]
        global_share = (
            0.0 if instrument.asset_class is AssetClass.FX else self.cross_asset_correlation
        )
        sign = (
            -1.0 if instrument.asset_class is AssetClass.FX and symbol.startswith("USD-") else 1.0
        )
        return (
            math.sqrt(global_share),
            sign * math.sqrt(within - global_share),
            math.sqrt(1.0 - within),
        )


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise InvalidInputError(f"synthetic config: {message}")


def _names(granularities: Iterable[Granularity]) -> str:
    return ", ".join(sorted(g.value for g in granularities))


# --------------------------------------------------------------------------------------------
# Random streams and the latent path
# --------------------------------------------------------------------------------------------


def _rng(seed: int, *parts: object) -> np.random.Generator:
    text = "|".join(str(p) for p in (seed, *parts)).encode()
    digest = hashlib.blake2b(text, digest_size=16).digest()
    return np.random.default_rng(int.from_bytes(digest, "big"))


def _days_in_year(year: int) -> int:
    return (datetime(year + 1, 1, 1) - datetime(year, 1, 1)).days


def _unit_t(rng: np.random.Generator, dof: float, size: int) -> FloatArray:
    return np.asarray(rng.standard_t(dof, size) * math.sqrt((dof - 2.0) / dof), dtype=np.float64)


@functools.lru_cache(maxsize=128)
def _factor_year(seed: int, name: str, year: int, dof: float) -> tuple[FloatArray, FloatArray]:
    """A factor's daily Student-t shocks and Gaussian half-hour shocks for one year."""
    rng = _rng(seed, "factor", name, year)
    days = _days_in_year(year)
    return _unit_t(rng, dof, days), rng.standard_normal(days * _STEPS_PER_DAY)


@functools.lru_cache(maxsize=16)
def _activity(calendar: TradingCalendar, first_year: int, last_year: int) -> FloatArray:
    """Variance weight of every half hour from ``first_year`` to the end of ``last_year``."""
    start = pd.Timestamp(first_year, 1, 1, tz=UTC)
    end = pd.Timestamp(last_year + 1, 1, 1, tz=UTC)
    times = pd.date_range(start, end, freq=STEP, inclusive="left")
    if calendar is TradingCalendar.CRYPTO_24_7:
        return np.ones(len(times))
    trading = trading_mask(calendar, times)
    closed = _OVERNIGHT_ACTIVITY if calendar is TradingCalendar.NYSE else 0.0
    return np.where(trading, 1.0, closed)


@functools.lru_cache(maxsize=64)
def _complete_open_times(
    calendar: TradingCalendar, granularity: Granularity, first_year: int, last_year: int
) -> tuple[pd.DatetimeIndex, IntArray, IntArray]:
    """Every bar of a complete series in the generated span, with its first and last step."""
    epoch = datetime(first_year, 1, 1, tzinfo=UTC)
    stop = datetime(last_year + 1, 1, 1, tzinfo=UTC)
    open_times = expected_open_times(calendar, granularity, epoch, stop)
    starts, ends = trading_bounds(calendar, granularity, open_times)
    epoch_ns = pd.Timestamp(epoch).value
    first_step = (np.asarray(starts.asi8, dtype=np.int64) - epoch_ns) // _STEP_NS
    last_step = (np.asarray(ends.asi8, dtype=np.int64) - epoch_ns) // _STEP_NS
    return open_times, first_step, last_step


def _per_year_counts(open_times: pd.DatetimeIndex, first_year: int, last_year: int) -> list[int]:
    years = np.asarray(open_times.year, dtype=np.int64)
    return [int(np.count_nonzero(years == y)) for y in range(first_year, last_year + 1)]


@dataclass(frozen=True, slots=True)
class _Path:
    log_price: FloatArray  # at every half-hour boundary (steps + 1)
    step_high: FloatArray  # highest log price within each half hour
    step_low: FloatArray
    cum_volume: FloatArray  # cumulative volume at every boundary (steps + 1)
    signal: FloatArray  # z of each bar of the signal granularity (complete series)
    planted: FloatArray  # planted log return of each signal bar, from the previous z


@functools.lru_cache(maxsize=64)
def _path(config: SyntheticConfig, symbol: str, last_year: int) -> _Path:
    instrument = get_instrument(symbol)
    calendar = instrument.calendar
    profile = config.profile(symbol)
    years = range(config.first_year, last_year + 1)
    activity = _activity(calendar, config.first_year, last_year)
    steps = len(activity)
    days = steps // _STEPS_PER_DAY

    global_load, class_load, idio_load = config.loadings(symbol)
    daily = np.empty(days)
    intraday = np.empty(steps)
    jump_u, jump_size = np.empty(steps), np.empty(steps)
    up, down, volume_noise = np.empty(steps), np.empty(steps), np.empty(steps)
    day0 = 0
    for year in years:
        n_days = _days_in_year(year)
        n_steps = n_days * _STEPS_PER_DAY
        g_daily, g_intraday = _factor_year(config.seed, "global", year, config.tail_dof)
        c_daily, c_intraday = _factor_year(
            config.seed, instrument.asset_class.value, year, config.tail_dof
        )
        rng = _rng(config.seed, "symbol", symbol, year)
        e_daily = _unit_t(rng, config.tail_dof, n_days)
        e_intraday = rng.standard_normal(n_steps)
        d_slice = slice(day0, day0 + n_days)
        s_slice = slice(day0 * _STEPS_PER_DAY, (day0 + n_days) * _STEPS_PER_DAY)
        daily[d_slice] = global_load * g_daily + class_load * c_daily + idio_load * e_daily
        intraday[s_slice] = (
            global_load * g_intraday + class_load * c_intraday + idio_load * e_intraday
        )
        jump_u[s_slice] = rng.random(n_steps)
        jump_size[s_slice] = rng.standard_normal(n_steps)
        up[s_slice] = np.abs(rng.standard_normal(n_steps))
        down[s_slice] = np.abs(rng.standard_normal(n_steps))
        volume_noise[s_slice] = rng.standard_normal(n_steps)
        day0 += n_days

    h_bar = profile.annual_volatility**2 / _YEAR_ACTIVITY[calendar]
    act = activity.reshape(days, _STEPS_PER_DAY)
    day_activity = act.sum(axis=1)
    variance = _garch(daily, day_activity > 0, h_bar, config.garch_alpha, config.garch_beta)

    # Brownian bridge: half-hour moves that add up to the day's move sqrt(h * A) * Z exactly.
    eps = intraday.reshape(days, _STEPS_PER_DAY)
    root_a = np.sqrt(act)
    with np.errstate(invalid="ignore", divide="ignore"):
        bridge_sum = (root_a * eps).sum(axis=1) / np.sqrt(day_activity)
        correction = np.where(day_activity > 0, (daily - bridge_sum) / np.sqrt(day_activity), 0.0)
    moves = np.sqrt(variance)[:, None] * (root_a * eps + act * correction[:, None])
    moves = moves.reshape(steps)

    full_day = _FULL_DAY_ACTIVITY[calendar]
    jump_sd = config.jump_scale * math.sqrt(h_bar * full_day)
    jumps = np.where(jump_u < config.jump_intensity * activity / full_day, jump_size * jump_sd, 0.0)
    moves = moves + jumps

    signal, planted, drift = _planted_signal(config, symbol, calendar, last_year, activity, h_bar)
    moves = moves + drift

    log_price = np.empty(steps + 1)
    log_price[0] = math.log(profile.start_price)
    np.cumsum(moves, out=log_price[1:])
    log_price[1:] += log_price[0]

    step_sd = np.repeat(np.sqrt(variance), _STEPS_PER_DAY) * np.sqrt(activity)
    step_high = np.maximum(log_price[:-1], log_price[1:]) + _EXCURSION * up * step_sd
    step_low = np.minimum(log_price[:-1], log_price[1:]) - _EXCURSION * down * step_sd

    typical = np.sqrt(h_bar * np.maximum(activity, 1e-12))
    volume = (
        profile.daily_volume / _SESSION_STEPS[calendar] * activity
        * np.exp(_VOLUME_NOISE * volume_noise - _VOLUME_NOISE**2 / 2)
        * (0.6 + 0.4 * np.minimum(np.abs(moves) / typical, 10.0))
    )  # fmt: skip
    cum_volume = np.concatenate([[0.0], np.cumsum(volume)])
    return _Path(log_price, step_high, step_low, cum_volume, signal, planted)


def _garch(
    shocks: FloatArray, active: npt.NDArray[np.bool_], h_bar: float, alpha: float, beta: float
) -> FloatArray:
    """Daily GARCH(1,1) variance per activity unit; inactive days carry it unchanged."""
    omega = h_bar * (1.0 - alpha - beta)
    out = np.empty(len(shocks))
    h = h_bar
    for day, (z, on) in enumerate(zip(shocks.tolist(), active.tolist(), strict=True)):
        out[day] = h
        if on:
            h = omega + (alpha * z * z + beta) * h
    return out


def _planted_signal(
    config: SyntheticConfig,
    symbol: str,
    calendar: TradingCalendar,
    last_year: int,
    activity: FloatArray,
    h_bar: float,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The published z of every signal bar, the planted return of each, and the half-hour
    drift that realizes it between consecutive closes."""
    open_times, _, last_step = _complete_open_times(
        calendar, config.signal_granularity, config.first_year, last_year
    )
    counts = _per_year_counts(open_times, config.first_year, last_year)
    signal = np.concatenate(
        [
            _rng(
                config.seed, "signal", symbol, config.signal_granularity.value, year
            ).standard_normal(count)
            for year, count in zip(range(config.first_year, last_year + 1), counts, strict=True)
        ]
    )
    steps = len(activity)
    planted = np.zeros(len(signal))
    if config.signal_strength == 0.0 or len(signal) < 2:
        return signal, planted, np.zeros(steps)
    cum_activity = np.concatenate([[0.0], np.cumsum(activity)])
    interval_activity = cum_activity[last_step[1:]] - cum_activity[last_step[:-1]]
    noise_var = h_bar * interval_activity * (1.0 + config.jump_intensity * config.jump_scale**2)
    planted[1:] = config.signal_strength * np.sqrt(noise_var) * signal[:-1]
    # Half hour k belongs to the interval that ends at the first close after it.
    interval = np.searchsorted(last_step, np.arange(steps), side="right")
    valid = (interval >= 1) & (interval < len(signal))
    index = np.where(valid, interval, 0)
    share = np.where(valid, activity / np.maximum(interval_activity[index - 1], 1e-300), 0.0)
    drift = np.where(valid, planted[index] * share, 0.0)
    return signal, planted, drift


# --------------------------------------------------------------------------------------------
# Bars
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Series:
    open_time: pd.DatetimeIndex
    available_at: pd.DatetimeIndex
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray


@functools.lru_cache(maxsize=64)
def _series(
    config: SyntheticConfig, symbol: str, granularity: Granularity, last_year: int
) -> _Series:
    """Every bar (after gaps) of ``symbol`` from the first year to the end of ``last_year``."""
    calendar = get_instrument(symbol).calendar
    path = _path(config, symbol, last_year)
    open_times, first, last = _complete_open_times(
        calendar, granularity, config.first_year, last_year
    )
    counts = _per_year_counts(open_times, config.first_year, last_year)
    draws = [
        _rng(config.seed, "gaps", symbol, granularity.value, year).random(count)
        for year, count in zip(range(config.first_year, last_year + 1), counts, strict=True)
    ]
    keep = np.concatenate(draws) >= config.gap_rate if draws else np.array([], dtype=bool)
    first, last = first[keep], last[keep]
    high = _segment_reduce(np.maximum, path.step_high, first, last)
    low = _segment_reduce(np.minimum, path.step_low, first, last)
    # A bar is known when it stops trading (``calendars.bar_available_at``): its last step.
    epoch_ns = pd.Timestamp(config.epoch).value
    return _Series(
        open_time=open_times[keep],
        available_at=pd.DatetimeIndex((epoch_ns + last * _STEP_NS).view("M8[ns]")).tz_localize(UTC),
        open=np.exp(path.log_price[first]),
        high=np.exp(high),
        low=np.exp(low),
        close=np.exp(path.log_price[last]),
        volume=path.cum_volume[last] - path.cum_volume[first],
    )


def _segment_reduce(
    ufunc: np.ufunc, values: FloatArray, first: IntArray, last: IntArray
) -> FloatArray:
    """``ufunc`` over ``values[first[i]:last[i]]`` for every i (each segment non-empty)."""
    if len(first) == 0:
        return np.array([], dtype=np.float64)
    padded = np.append(values, values[-1])
    bounds = np.empty(2 * len(first), dtype=np.int64)
    bounds[0::2], bounds[1::2] = first, last
    return np.asarray(ufunc.reduceat(padded, bounds)[0::2], dtype=np.float64)


class SyntheticMarket:
    """The generator: bars, the planted signal and the theoretical properties of a config."""

    def __init__(self, config: SyntheticConfig | None = None) -> None:
        self.config = config or SyntheticConfig()

    def __repr__(self) -> str:
        return f"SyntheticMarket(seed={self.config.seed}, symbols={list(self.config.symbols)})"

    @property
    def theoretical_correlation(self) -> float:
        """Best achievable correlation of a forecast with the next signal-granularity return."""
        s = self.config.signal_strength
        return s / math.sqrt(1.0 + s * s) if s else 0.0

    def correlation_matrix(self, symbols: Iterable[str] | None = None) -> pd.DataFrame:
        """Correlation of the daily shocks (the block matrix the factor loadings realize)."""
        names = list(symbols) if symbols is not None else list(self.config.symbols)
        loads = {s: self.config.loadings(s) for s in names}
        classes = {s: get_instrument(s).asset_class for s in names}
        matrix = np.eye(len(names))
        for i, a in enumerate(names):
            for j, b in enumerate(names):
                if i != j:
                    same = classes[a] is classes[b]
                    matrix[i, j] = loads[a][0] * loads[b][0] + (
                        loads[a][1] * loads[b][1] if same else 0.0
                    )
        return pd.DataFrame(matrix, index=names, columns=names)

    def bars(
        self, symbol: str, granularity: Granularity, start: datetime, end: datetime
    ) -> pd.DataFrame:
        """Canonical bars of ``symbol`` opening in ``[start, end)`` (venue ``synthetic``)."""
        check_granularity(granularity, SUPPORTED_GRANULARITIES, "synthetic")
        window = self._window(start, end)
        if window is None:
            return empty_bar_frame()
        lo, hi, last_year = window
        series = _series(self.config, symbol, granularity, last_year)
        times = np.asarray(series.open_time.asi8, dtype=np.int64)
        a, b = np.searchsorted(times, [lo, hi])
        if a == b:
            return empty_bar_frame()
        frame = pd.DataFrame(
            {
                "symbol": symbol,
                "venue": Venue.SYNTHETIC.value,
                "granularity": granularity.value,
                "open_time": series.open_time[a:b],
                "open": series.open[a:b],
                "high": series.high[a:b],
                "low": series.low[a:b],
                "close": series.close[a:b],
                "volume": series.volume[a:b],
                "available_at": series.available_at[a:b],
            }
        )
        return normalize_bar_frame(frame)

    def signal_frame(self, symbol: str, start: datetime, end: datetime) -> pd.DataFrame:
        """The published signal of ``symbol``'s bars (``signal_granularity``) in ``[start, end)``.

        Columns: ``symbol``, ``granularity``, ``open_time`` and ``available_at`` of bar ``t``
        (the signal is known when bar ``t`` closes), ``signal`` (``z[t]``, standard normal)
        and ``planted_next_return`` (the planted part of bar ``t+1``'s log return; NaN for the
        last bar generated). Rows cover the complete calendar, bars removed as gaps included.
        """
        granularity = self.config.signal_granularity
        calendar = get_instrument(symbol).calendar
        window = self._window(start, end)
        columns = ["symbol", "granularity", "open_time", "available_at", "signal"]
        if window is None:
            return pd.DataFrame(
                {c: pd.Series(dtype="float64") for c in [*columns, "planted_next_return"]}
            )
        lo, hi, last_year = window
        path = _path(self.config, symbol, last_year)
        open_times, _, _ = _complete_open_times(
            calendar, granularity, self.config.first_year, last_year
        )
        times = np.asarray(open_times.asi8, dtype=np.int64)
        a, b = np.searchsorted(times, [lo, hi])
        selected = open_times[a:b]
        planted_next = np.append(path.planted[1:], np.nan)
        return pd.DataFrame(
            {
                "symbol": symbol,
                "granularity": granularity.value,
                "open_time": selected,
                "available_at": trading_bounds(calendar, granularity, selected)[1],
                "signal": path.signal[a:b],
                "planted_next_return": planted_next[a:b],
            }
        )

    def _window(self, start: datetime, end: datetime) -> tuple[int, int, int] | None:
        """Nanosecond bounds clipped to the generated span, and the last year to generate."""
        start = require_utc(start, "start")
        end = require_utc(end, "end")
        if end > datetime(LAST_YEAR + 1, 1, 1, tzinfo=UTC):
            raise InvalidDateRangeError(
                f"the synthetic market ends on {LAST_YEAR}-12-31; end {end:%Y-%m-%d} is later"
            )
        lo = max(pd.Timestamp(start).value, pd.Timestamp(self.config.epoch).value)
        hi = pd.Timestamp(end).value
        if hi <= lo:
            return None
        last_year = pd.Timestamp(hi - 1, tz=UTC).year
        return lo, hi, last_year


class SyntheticSource:
    """The synthetic market as a :class:`~quantdesk.data.sources.base.BarSource`.

    Serves the configured universe at ``1h``, ``6h`` and ``1d``. With a ``clock``, bars not
    yet available at ``clock()`` are left out, as a live venue would; without one the source
    is a pure function of its config.
    """

    venue = Venue.SYNTHETIC

    def __init__(
        self,
        config: SyntheticConfig | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.market = SyntheticMarket(config)
        self.clock = clock

    def __repr__(self) -> str:
        return f"SyntheticSource({self.market!r})"

    @property
    def config(self) -> SyntheticConfig:
        return self.market.config

    def list_instruments(self) -> list[Instrument]:
        """Catalogue entries of the universe (equities, FX and crypto), by symbol."""
        return sorted((get_instrument(s) for s in self.config.symbols), key=lambda i: i.symbol)

    def fetch_bars(
        self, symbol: str, granularity: Granularity | str, start: datetime, end: datetime
    ) -> pd.DataFrame:
        self._require_symbol(symbol)
        bar_size = as_granularity(granularity)
        check_granularity(bar_size, SUPPORTED_GRANULARITIES, "synthetic")
        start_utc, end_utc = check_range(start, end)
        frame = self.market.bars(symbol, bar_size, start_utc, end_utc)
        if self.clock is not None and len(frame):
            now = pd.Timestamp(require_utc(self.clock(), "clock()"))
            frame = frame[frame["available_at"] <= now].reset_index(drop=True)
        return frame

    def signal_frame(self, symbol: str, start: datetime, end: datetime) -> pd.DataFrame:
        """The planted signal (see :meth:`SyntheticMarket.signal_frame`)."""
        self._require_symbol(symbol)
        start_utc, end_utc = check_range(start, end)
        return self.market.signal_frame(symbol, start_utc, end_utc)

    @property
    def theoretical_correlation(self) -> float:
        return self.market.theoretical_correlation

    def _require_symbol(self, symbol: str) -> None:
        if symbol not in self.config.symbols:
            served = ", ".join(sorted(self.config.symbols))
            raise UnknownSymbolError(
                f"{symbol!r} is not in the synthetic universe; it serves {served}"
            )
