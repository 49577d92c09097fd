"""Merge venue streams into one clean bar frame and score each series' quality.

What :meth:`DataAggregator.aggregate` does, in order:

1. **Normalize** every input frame (``normalize_bar_frame``: canonical columns, dtypes, UTC).
   Schema errors raise :class:`InvalidInputError`; a row without a symbol or bar size cannot be
   attributed to anything and raises too. Non-monotonic time is measured *here*, in each
   stream's delivery order, before anything is sorted.
2. **Merge and de-duplicate** on ``(symbol, granularity, open_time)``. One version survives
   per key, chosen by :class:`DuplicatePolicy`:

   - ``LATEST_AVAILABLE`` (default): the row with the latest ``available_at`` wins, because a
     later ``available_at`` is a later correction of the same bar. Ties go to the venue ranked
     higher in ``venue_priority``, then to the row delivered last.
   - ``VENUE_PRIORITY``: the row from the venue ranked higher wins; ties go to the latest
     ``available_at``, then to the row delivered last.

   Earlier versions already stored in the lake stay there (the lake is bitemporal); inside one
   batch we keep one version per bar, so a batch never disagrees with itself.
3. **Align** each (symbol, bar size) series to its instrument's trading calendar
   (``calendars.expected_open_times``): bars whose ``open_time`` is not an expected open time
   (an equity bar on a Saturday or a holiday, a bar off the bar grid) are dropped and counted.
4. **Score** each series (see :class:`SymbolQuality`): missing bars (expected minus present),
   stale prices (runs of an identical close), OHLC contradictions, negative volume,
   non-monotonic input, robust-z outliers of log returns, duplicates removed, off-calendar
   bars dropped, rows without an open time.

Value problems (OHLC contradictions, negative volume, outliers, stale runs) are flagged, never
repaired or dropped: the quality gate decides whether the batch goes to the clean zone or to
quarantine, and a quarantined batch must be evidence of what arrived.

Pure computation: this module reads no files, clock or network.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from quantdesk.data.bars import KEY_COLUMNS, empty_bar_frame, normalize_bar_frame, ohlc_violations
from quantdesk.data.calendars import expected_open_times
from quantdesk.data.catalog import get_instrument
from quantdesk.domain import (
    AssetClass,
    Granularity,
    InvalidInputError,
    TradingCalendar,
    Venue,
    require_utc,
)

__all__ = [
    "DEFAULT_VENUE_PRIORITY",
    "AggregationResult",
    "BatchQualityReport",
    "DataAggregator",
    "DuplicatePolicy",
    "IssueCode",
    "PenaltyWeights",
    "QualityIssue",
    "QualityThresholds",
    "SymbolQuality",
]

# Venues that serve a symbol natively beat the bundled history, which beats synthetic data.
DEFAULT_VENUE_PRIORITY: tuple[Venue, ...] = (
    Venue.COINBASE,
    Venue.OANDA,
    Venue.ROBINHOOD,
    Venue.BUNDLED,
    Venue.SYNTHETIC,
)
_MAX_EXAMPLES = 5
# 0.6745 is the 0.75 quantile of the standard normal: it makes the MAD a consistent sigma.
_MAD_TO_SIGMA = 0.6745
# sqrt(pi / 2): mean absolute deviation to sigma, the fallback when the MAD is zero.
_MEANAD_TO_SIGMA = 1.2533141373155003


class DuplicatePolicy(StrEnum):
    """Which version of a bar survives when a batch holds several (see the module docstring)."""

    LATEST_AVAILABLE = "latest_available"
    VENUE_PRIORITY = "venue_priority"


class IssueCode(StrEnum):
    """Stable codes for what can be wrong with a series; reports and alerts key on them."""

    MISSING_BARS = "missing_bars"
    STALE_PRICES = "stale_prices"
    OHLC_VIOLATION = "ohlc_violation"
    NEGATIVE_VOLUME = "negative_volume"
    NON_MONOTONIC_TIME = "non_monotonic_time"
    OUTLIER_RETURN = "outlier_return"
    DUPLICATES_REMOVED = "duplicates_removed"
    OFF_CALENDAR = "off_calendar"
    MISSING_OPEN_TIME = "missing_open_time"
    EMPTY_SERIES = "empty_series"


@dataclass(frozen=True, slots=True)
class PenaltyWeights:
    """How much each problem ratio lowers the score: ``score = 1 - sum(weight * ratio)``.

    Values problems weigh most (a contradictory bar is wrong data), gaps next, structural
    repairs the aggregator already made (duplicates, off-calendar bars) least.
    """

    missing: float = 1.0
    stale: float = 1.0
    ohlc: float = 3.0
    negative_volume: float = 3.0
    outlier: float = 2.0
    non_monotonic: float = 0.25
    duplicates: float = 0.1
    off_calendar: float = 0.5
    missing_open_time: float = 1.0

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not (np.isfinite(value) and value >= 0):
                raise InvalidInputError(f"penalty weight {name} must be >= 0, got {value}")


@dataclass(frozen=True, slots=True)
class QualityThresholds:
    """Tunables of the aggregator's checks and of the gate's pass mark.

    ``stale_run_bars``: a run of at least this many bars with an identical close is stale.
    ``outlier_z``: robust z-score (median/MAD of log returns) above which a return is an outlier.
    ``min_returns_for_outliers``: fewer returns than this and no outlier test is made.
    ``min_score``: the quality gate fails a batch with any series scoring below this.
    """

    stale_run_bars: int = 5
    outlier_z: float = 8.0
    min_returns_for_outliers: int = 10
    min_score: float = 0.9
    weights: PenaltyWeights = field(default_factory=PenaltyWeights)

    def __post_init__(self) -> None:
        if self.stale_run_bars < 2:
            raise InvalidInputError("stale_run_bars must be >= 2")
        if not (np.isfinite(self.outlier_z) and self.outlier_z > 0):
            raise InvalidInputError("outlier_z must be > 0")
        if self.min_returns_for_outliers < 3:
            raise InvalidInputError("min_returns_for_outliers must be >= 3")
        if not 0.0 <= self.min_score <= 1.0:
            raise InvalidInputError("min_score must be in [0, 1]")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class QualityIssue:
    """One kind of problem in one series: its code, how many bars, and a few example times."""

    code: IssueCode
    count: int
    message: str
    examples: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code.value,
            "count": self.count,
            "message": self.message,
            "examples": list(self.examples),
        }


@dataclass(frozen=True, slots=True)
class SymbolQuality:
    """Quality of one (symbol, bar size) series in one batch.

    Counts: ``input_rows`` arrived; ``duplicates_removed`` and ``off_calendar`` were dropped
    (as were ``missing_open_time`` rows); ``rows`` remain. ``expected_bars`` is what the calendar
    says the covered span holds and ``missing_bars`` how many of those are absent.
    ``stale_bars`` counts the repeats inside stale runs (a run of 6 identical closes adds 5).
    ``non_monotonic`` counts steps back in time in delivery order. ``score`` is in [0, 1]:
    ``1 - sum(weight * ratio)`` clipped, and 0 for a series with no bars left.
    """

    symbol: str
    asset_class: AssetClass
    calendar: TradingCalendar
    granularity: Granularity
    input_rows: int
    rows: int
    expected_bars: int
    missing_bars: int
    stale_bars: int
    stale_runs: int
    ohlc_violations: int
    negative_volume: int
    non_monotonic: int
    outliers: int
    duplicates_removed: int
    off_calendar: int
    missing_open_time: int
    first_open_time: datetime | None
    last_open_time: datetime | None
    score: float
    issues: tuple[QualityIssue, ...]

    def ratios(self) -> dict[str, float]:
        """Each problem as a share of what it can affect (the inputs to the score)."""
        return _ratios(
            input_rows=self.input_rows,
            rows=self.rows,
            expected=self.expected_bars,
            missing=self.missing_bars,
            stale=self.stale_bars,
            ohlc=self.ohlc_violations,
            negative_volume=self.negative_volume,
            non_monotonic=self.non_monotonic,
            outliers=self.outliers,
            duplicates=self.duplicates_removed,
            off_calendar=self.off_calendar,
            missing_open_time=self.missing_open_time,
        )

    @property
    def issue_codes(self) -> tuple[IssueCode, ...]:
        return tuple(issue.code for issue in self.issues)

    def to_dict(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "asset_class": self.asset_class.value,
            "calendar": self.calendar.value,
            "granularity": self.granularity.value,
            "input_rows": self.input_rows,
            "rows": self.rows,
            "expected_bars": self.expected_bars,
            "missing_bars": self.missing_bars,
            "stale_bars": self.stale_bars,
            "stale_runs": self.stale_runs,
            "ohlc_violations": self.ohlc_violations,
            "negative_volume": self.negative_volume,
            "non_monotonic": self.non_monotonic,
            "outliers": self.outliers,
            "duplicates_removed": self.duplicates_removed,
            "off_calendar": self.off_calendar,
            "missing_open_time": self.missing_open_time,
            "first_open_time": _iso(self.first_open_time),
            "last_open_time": _iso(self.last_open_time),
            "ratios": self.ratios(),
            "score": self.score,
            "issues": [issue.to_dict() for issue in self.issues],
        }


@dataclass(frozen=True, slots=True)
class BatchQualityReport:
    """Quality of one batch: one :class:`SymbolQuality` per (symbol, bar size) series."""

    series: tuple[SymbolQuality, ...]
    input_rows: int
    output_rows: int
    thresholds: QualityThresholds
    duplicate_policy: DuplicatePolicy

    @property
    def score(self) -> float:
        """The worst series' score (1.0 for an empty batch): one bad series spoils a batch."""
        return min((s.score for s in self.series), default=1.0)

    @property
    def asset_classes(self) -> tuple[AssetClass, ...]:
        return tuple(sorted({s.asset_class for s in self.series}))

    def for_symbol(self, symbol: str) -> tuple[SymbolQuality, ...]:
        return tuple(s for s in self.series if s.symbol == symbol)

    def for_asset_class(self, asset_class: AssetClass) -> BatchQualityReport:
        """The sub-report of one asset class (row counts summed over its series)."""
        series = tuple(s for s in self.series if s.asset_class is asset_class)
        return BatchQualityReport(
            series=series,
            input_rows=sum(s.input_rows for s in series),
            output_rows=sum(s.rows for s in series),
            thresholds=self.thresholds,
            duplicate_policy=self.duplicate_policy,
        )

    def below(self, min_score: float) -> tuple[SymbolQuality, ...]:
        return tuple(s for s in self.series if s.score < min_score)

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "input_rows": self.input_rows,
            "output_rows": self.output_rows,
            "duplicate_policy": self.duplicate_policy.value,
            "thresholds": self.thresholds.to_dict(),
            "series": [s.to_dict() for s in self.series],
        }


@dataclass(frozen=True, slots=True)
class AggregationResult:
    """The merged, de-duplicated, calendar-aligned frame (canonical) and its quality report."""

    frame: pd.DataFrame
    report: BatchQualityReport


class DataAggregator:
    """Merge venue streams into one canonical frame and score each series (pure computation)."""

    def __init__(
        self,
        thresholds: QualityThresholds | None = None,
        duplicate_policy: DuplicatePolicy = DuplicatePolicy.LATEST_AVAILABLE,
        venue_priority: Sequence[Venue] = DEFAULT_VENUE_PRIORITY,
    ) -> None:
        self.thresholds = thresholds if thresholds is not None else QualityThresholds()
        self.duplicate_policy = DuplicatePolicy(duplicate_policy)
        venues = [Venue(v) for v in venue_priority]
        if len(set(venues)) != len(venues):
            raise InvalidInputError("venue_priority lists a venue twice")
        self.venue_priority: tuple[Venue, ...] = tuple(venues)

    def aggregate(
        self,
        frames: pd.DataFrame | Iterable[pd.DataFrame],
        *,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> AggregationResult:
        """Merge ``frames`` (one per venue stream) and score the result.

        ``start``/``end`` (UTC, end exclusive) widen the span in which bars are expected, so
        bars missing at the edges of a requested window count too; by default each series is
        expected to be complete between its first and last bar.
        """
        window_start = require_utc(start, "start") if start is not None else None
        window_end = require_utc(end, "end") if end is not None else None
        if window_start is not None and window_end is not None and window_end <= window_start:
            raise InvalidInputError("end must be after start")
        streams = [frames] if isinstance(frames, pd.DataFrame) else list(frames)

        normalized: list[pd.DataFrame] = []
        steps_back: dict[tuple[str, str], int] = {}
        for number, raw in enumerate(streams):
            frame = normalize_bar_frame(raw)
            _require_series_keys(frame)
            for key, count in _steps_back_in_delivery_order(raw).items():
                steps_back[key] = steps_back.get(key, 0) + count
            normalized.append(frame.assign(_stream=number))
        if not normalized:
            return AggregationResult(empty_bar_frame(), self._report((), 0, 0))

        merged = pd.concat(normalized, ignore_index=True)
        merged["_order"] = np.arange(len(merged))
        input_rows = len(merged)

        series_reports: list[SymbolQuality] = []
        kept: list[pd.DataFrame] = []
        for (symbol, granularity_text), group in merged.groupby(
            ["symbol", "granularity"], sort=True, observed=True
        ):
            granularity = Granularity(str(granularity_text))
            clean, quality = self._series(
                str(symbol),
                granularity,
                group,
                steps_back.get((str(symbol), granularity.value), 0),
                window_start,
                window_end,
            )
            kept.append(clean)
            series_reports.append(quality)

        out = normalize_bar_frame(pd.concat(kept, ignore_index=True)) if kept else empty_bar_frame()
        return AggregationResult(out, self._report(tuple(series_reports), input_rows, len(out)))

    def _report(
        self, series: tuple[SymbolQuality, ...], input_rows: int, output_rows: int
    ) -> BatchQualityReport:
        return BatchQualityReport(
            series=series,
            input_rows=input_rows,
            output_rows=output_rows,
            thresholds=self.thresholds,
            duplicate_policy=self.duplicate_policy,
        )

    def _deduplicate(self, group: pd.DataFrame) -> pd.DataFrame:
        rank = {venue.value: i for i, venue in enumerate(self.venue_priority)}
        unranked = len(rank)
        # Higher preference sorts later; ``keep="last"`` then keeps the preferred version.
        preference = -group["venue"].map(lambda v: rank.get(str(v), unranked)).astype("int64")
        ordered = group.assign(_preference=preference.to_numpy())
        if self.duplicate_policy is DuplicatePolicy.LATEST_AVAILABLE:
            tiebreak = ["available_at", "_preference", "_order"]
        else:
            tiebreak = ["_preference", "available_at", "_order"]
        ordered = ordered.sort_values([*KEY_COLUMNS, *tiebreak], kind="stable", na_position="first")
        return ordered.drop_duplicates(subset=list(KEY_COLUMNS), keep="last").drop(
            columns="_preference"
        )

    def _series(
        self,
        symbol: str,
        granularity: Granularity,
        group: pd.DataFrame,
        non_monotonic: int,
        window_start: datetime | None,
        window_end: datetime | None,
    ) -> tuple[pd.DataFrame, SymbolQuality]:
        instrument = get_instrument(symbol)
        input_rows = len(group)
        timed = group[group["open_time"].notna()]
        missing_open_time = input_rows - len(timed)
        deduped = self._deduplicate(timed)
        duplicates = len(timed) - len(deduped)

        step = pd.Timedelta(granularity.duration)
        times = pd.DatetimeIndex(deduped["open_time"])
        if len(times) or (window_start is not None and window_end is not None):
            span_start = _earliest(times.min() if len(times) else None, window_start)
            span_end = _latest(times.max() + step if len(times) else None, window_end)
            expected = expected_open_times(instrument.calendar, granularity, span_start, span_end)
        else:
            expected = pd.DatetimeIndex([], tz="UTC")
        on_calendar = times.isin(expected)
        off_times = times[~on_calendar]
        aligned = deduped[on_calendar].sort_values("open_time", kind="stable")
        present = pd.DatetimeIndex(aligned["open_time"])
        missing_times = expected.difference(present)

        close = aligned["close"].to_numpy(dtype="float64")
        aligned_times = present
        stale_runs, stale_bars, stale_examples = _stale_runs(
            close, aligned_times, self.thresholds.stale_run_bars
        )
        ohlc_mask = ohlc_violations(aligned)
        volume = aligned["volume"].to_numpy(dtype="float64")
        with np.errstate(invalid="ignore"):
            negative_mask = volume < 0
        outlier_mask = _robust_outliers(
            close, self.thresholds.outlier_z, self.thresholds.min_returns_for_outliers
        )

        counts = {
            "input_rows": input_rows,
            "rows": len(aligned),
            "expected": len(expected),
            "missing": len(missing_times),
            "stale": stale_bars,
            "ohlc": int(ohlc_mask.sum()),
            "negative_volume": int(negative_mask.sum()),
            "non_monotonic": non_monotonic,
            "outliers": int(outlier_mask.sum()),
            "duplicates": duplicates,
            "off_calendar": len(off_times),
            "missing_open_time": missing_open_time,
        }
        score = _score(self.thresholds.weights, _ratios(**counts), len(aligned))
        issues = _issues(
            counts,
            stale_runs=stale_runs,
            missing_times=missing_times,
            stale_examples=stale_examples,
            ohlc_times=aligned_times[ohlc_mask],
            negative_times=aligned_times[negative_mask],
            outlier_times=aligned_times[outlier_mask],
            off_times=off_times,
            threshold=self.thresholds,
        )
        quality = SymbolQuality(
            symbol=symbol,
            asset_class=instrument.asset_class,
            calendar=instrument.calendar,
            granularity=granularity,
            input_rows=input_rows,
            rows=len(aligned),
            expected_bars=len(expected),
            missing_bars=len(missing_times),
            stale_bars=stale_bars,
            stale_runs=stale_runs,
            ohlc_violations=counts["ohlc"],
            negative_volume=counts["negative_volume"],
            non_monotonic=non_monotonic,
            outliers=counts["outliers"],
            duplicates_removed=duplicates,
            off_calendar=len(off_times),
            missing_open_time=missing_open_time,
            first_open_time=present[0].to_pydatetime() if len(present) else None,
            last_open_time=present[-1].to_pydatetime() if len(present) else None,
            score=score,
            issues=issues,
        )
        return aligned.drop(columns=["_stream", "_order"]), quality


def _require_series_keys(frame: pd.DataFrame) -> None:
    """A row without symbol or bar size cannot be attributed to any series: reject the input."""
    unkeyed = frame["symbol"].isna() | frame["granularity"].isna()
    if bool(unkeyed.any()):
        raise InvalidInputError(
            f"{int(unkeyed.sum())} bar rows have no symbol or granularity; "
            "a delivery must name the series of every row"
        )


def _steps_back_in_delivery_order(raw: pd.DataFrame) -> dict[tuple[str, str], int]:
    """Per (symbol, granularity): how often open_time steps back in the order rows arrived.

    Called after ``normalize_bar_frame`` accepted ``raw``, so the columns convert cleanly.
    """
    frame = pd.DataFrame(
        {
            "symbol": raw["symbol"].astype("string").to_numpy(),
            "granularity": raw["granularity"].astype("string").to_numpy(),
            "open_time": pd.to_datetime(raw["open_time"], utc=True).to_numpy(),
        }
    )
    counts: dict[tuple[str, str], int] = {}
    for (symbol, granularity), group in frame.groupby(
        ["symbol", "granularity"], sort=False, observed=True
    ):
        times = group["open_time"].dropna()
        steps = int((times.diff() < pd.Timedelta(0)).sum())
        counts[(str(symbol), str(granularity))] = steps
    return counts


def _stale_runs(
    close: np.ndarray, times: pd.DatetimeIndex, min_run: int
) -> tuple[int, int, tuple[str, ...]]:
    """(runs, repeated bars, example run starts) for runs of >= ``min_run`` identical closes."""
    if len(close) < min_run:
        return 0, 0, ()
    changes = np.flatnonzero(np.r_[True, close[1:] != close[:-1], True])
    starts, lengths = changes[:-1], np.diff(changes)
    stale = lengths >= min_run
    runs = int(stale.sum())
    repeated = int((lengths[stale] - 1).sum())
    examples = tuple(_iso(times[i]) or "" for i in starts[stale][:_MAX_EXAMPLES])
    return runs, repeated, examples


def _robust_outliers(close: np.ndarray, z_threshold: float, min_returns: int) -> np.ndarray:
    """Mask of bars whose log return into them has a robust z-score above ``z_threshold``.

    z = 0.6745 * (r - median) / MAD. When the MAD is zero (most returns identical) the mean
    absolute deviation stands in; when that is zero too, nothing is an outlier. A spike that
    reverts (an extreme return followed by an extreme one of opposite sign) flags only the
    spike bar, not the normal bar after it.
    """
    mask = np.zeros(len(close), dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        returns = np.diff(np.log(close))
    finite = np.isfinite(returns)
    if int(finite.sum()) < min_returns:
        return mask
    valid = returns[finite]
    median = float(np.median(valid))
    deviation = np.abs(valid - median)
    mad = float(np.median(deviation))
    fallback = float(np.mean(deviation)) * _MEANAD_TO_SIGMA
    sigma = mad / _MAD_TO_SIGMA if mad > 0 else fallback
    if sigma <= 0:
        return mask
    z = np.zeros(len(returns))
    z[finite] = (valid - median) / sigma
    flagged = np.abs(z) > z_threshold
    for i in range(1, len(flagged)):
        if flagged[i] and flagged[i - 1] and np.sign(z[i]) != np.sign(z[i - 1]):
            flagged[i] = False  # the reversion of the spike before it
    mask[1:] = flagged
    return mask


def _ratios(
    *,
    input_rows: int,
    rows: int,
    expected: int,
    missing: int,
    stale: int,
    ohlc: int,
    negative_volume: int,
    non_monotonic: int,
    outliers: int,
    duplicates: int,
    off_calendar: int,
    missing_open_time: int,
) -> dict[str, float]:
    def share(part: int, whole: int) -> float:
        return float(part) / whole if whole > 0 else 0.0

    timed = input_rows - missing_open_time
    return {
        "missing": share(missing, expected),
        "stale": share(stale, rows),
        "ohlc": share(ohlc, rows),
        "negative_volume": share(negative_volume, rows),
        "non_monotonic": share(non_monotonic, max(input_rows - 1, 0)),
        "outlier": share(outliers, rows),
        "duplicates": share(duplicates, timed),
        "off_calendar": share(off_calendar, timed - duplicates),
        "missing_open_time": share(missing_open_time, input_rows),
    }


def _score(weights: PenaltyWeights, ratios: Mapping[str, float], rows: int) -> float:
    if rows == 0:
        return 0.0
    penalty = sum(getattr(weights, name) * ratio for name, ratio in ratios.items())
    return float(min(1.0, max(0.0, 1.0 - penalty)))


def _issues(
    counts: Mapping[str, int],
    *,
    stale_runs: int,
    missing_times: pd.DatetimeIndex,
    stale_examples: tuple[str, ...],
    ohlc_times: pd.DatetimeIndex,
    negative_times: pd.DatetimeIndex,
    outlier_times: pd.DatetimeIndex,
    off_times: pd.DatetimeIndex,
    threshold: QualityThresholds,
) -> tuple[QualityIssue, ...]:
    found: list[QualityIssue] = []

    def add(code: IssueCode, count: int, message: str, examples: Iterable[str] = ()) -> None:
        if count > 0:
            found.append(QualityIssue(code, count, message, tuple(examples)[:_MAX_EXAMPLES]))

    if counts["rows"] == 0:
        found.append(QualityIssue(IssueCode.EMPTY_SERIES, 1, "no bars left after cleaning"))
    add(
        IssueCode.MISSING_BARS,
        counts["missing"],
        f"{counts['missing']} of {counts['expected']} expected bars are missing",
        _isos(missing_times),
    )
    add(
        IssueCode.STALE_PRICES,
        counts["stale"],
        f"{stale_runs} run(s) of >= {threshold.stale_run_bars} identical closes "
        f"({counts['stale']} repeated bars)",
        stale_examples,
    )
    add(
        IssueCode.OHLC_VIOLATION,
        counts["ohlc"],
        f"{counts['ohlc']} bars with contradictory or non-positive OHLC",
        _isos(ohlc_times),
    )
    add(
        IssueCode.NEGATIVE_VOLUME,
        counts["negative_volume"],
        f"{counts['negative_volume']} bars with negative volume",
        _isos(negative_times),
    )
    add(
        IssueCode.NON_MONOTONIC_TIME,
        counts["non_monotonic"],
        f"open_time stepped back {counts['non_monotonic']} time(s) in delivery order",
    )
    add(
        IssueCode.OUTLIER_RETURN,
        counts["outliers"],
        f"{counts['outliers']} log returns with robust z-score > {threshold.outlier_z:g}",
        _isos(outlier_times),
    )
    add(
        IssueCode.DUPLICATES_REMOVED,
        counts["duplicates"],
        f"{counts['duplicates']} duplicate bar versions removed",
    )
    add(
        IssueCode.OFF_CALENDAR,
        counts["off_calendar"],
        f"{counts['off_calendar']} bars outside the trading calendar dropped",
        _isos(off_times),
    )
    add(
        IssueCode.MISSING_OPEN_TIME,
        counts["missing_open_time"],
        f"{counts['missing_open_time']} rows without open_time dropped",
    )
    return tuple(found)


def _earliest(a: pd.Timestamp | None, b: datetime | None) -> datetime:
    values = [pd.Timestamp(v) for v in (a, b) if v is not None]
    earliest: datetime = min(values).to_pydatetime()
    return earliest


def _latest(a: pd.Timestamp | None, b: datetime | None) -> datetime:
    values = [pd.Timestamp(v) for v in (a, b) if v is not None]
    latest: datetime = max(values).to_pydatetime()
    return latest


def _iso(value: datetime | pd.Timestamp | None) -> str | None:
    if value is None or pd.isna(value):
        return None
    return str(pd.Timestamp(value).isoformat())


def _isos(times: pd.DatetimeIndex) -> list[str]:
    return [pd.Timestamp(t).isoformat() for t in times[:_MAX_EXAMPLES]]
