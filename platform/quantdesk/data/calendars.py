"""Market calendars: which bars a complete series has, and when each bar is first known.

Pure functions of the calendar, the bar size and a time range; no files, clock or network.
Every time in and out is UTC. The conventions, in one place:

**Bar grid.** Bars of a bar size ``d`` (1m ... 1d) sit on a grid aligned to 00:00 UTC, except
NYSE intraday bars, which are anchored at the 09:30 New York open of each session.

**NYSE** (``TradingCalendar.NYSE``): regular sessions Monday to Friday 09:30-16:00
America/New_York, minus exchange holidays, with 13:00 early closes.

- Daily bars are labelled with the *session date*: ``open_time`` = that date at 00:00 UTC (the
  date label venues such as Robinhood use; the whole session, 13:30/14:30-20:00/21:00 UTC, lies
  inside that UTC date). ``available_at`` = the session's close, 16:00 New York (13:00 on early
  closes), converted to UTC with the daylight-saving rules of that date: 21:00 UTC in winter,
  20:00 UTC in summer.
- Intraday bars open at 09:30 + k*d New York time while the session is open: hourly bars at
  09:30, 10:30, ..., 15:30 (the last one lasts 30 minutes), 5-minute bars at 09:30 ... 15:55.
  A bar is known at ``min(open_time + d, session close)``.
- Holidays follow pandas.tseries.holiday rules: New Year's Day (a Sunday moves to Monday; a
  Saturday is *not* observed on the Friday before, as the NYSE keeps 31 December open), Martin
  Luther King Jr. Day, Washington's Birthday, Good Friday, Memorial Day, Juneteenth (from
  2022), Independence Day, Labor Day, Thanksgiving and Christmas (Saturday to Friday, Sunday to
  Monday). Closures no rule predicts are listed explicitly in :data:`NYSE_SPECIAL_CLOSURES`
  (11-14 September 2001, national days of mourning, hurricane Sandy); early closes at 13:00
  follow :func:`nyse_early_closes` (3 July and 24 December when they are sessions, the day
  after Thanksgiving) from :data:`EARLY_CLOSE_RULES_FROM` on; earlier years are treated as
  full days, which only matters for intraday bars of those days.

**FX_24_5**: trading from Sunday 17:00 to Friday 17:00 America/New_York (the interbank week;
17:00 New York is 21:00 or 22:00 UTC depending on US daylight saving). A bar exists when its
interval ``[open_time, open_time + d)`` overlaps trading time. Daily bars open at 00:00 UTC,
the alignment our OANDA source requests (``dailyAlignment=0``, UTC) so venue and calendar
agree: a week has six daily bars, Sunday's and Friday's partial. FX holidays (25 December,
1 January) are not modelled: a venue's missing bars on those days count as gaps.
``available_at`` = ``open_time + d``.

**CRYPTO_24_7**: every grid bar; daily bars at 00:00 UTC; ``available_at`` = ``open_time + d``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeAlias
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd
from pandas.tseries.holiday import (
    GoodFriday,
    Holiday,
    USLaborDay,
    USMartinLutherKingJr,
    USMemorialDay,
    USPresidentsDay,
    USThanksgivingDay,
    nearest_workday,
    sunday_to_monday,
)

from quantdesk.domain import Granularity, InvalidInputError, TradingCalendar, require_utc

__all__ = [
    "EARLY_CLOSE_RULES_FROM",
    "FX_WEEK_CLOSE",
    "FX_WEEK_OPEN",
    "NEW_YORK",
    "NYSE_CLOSE",
    "NYSE_EARLY_CLOSE",
    "NYSE_OPEN",
    "NYSE_SPECIAL_CLOSURES",
    "bar_available_at",
    "expected_open_times",
    "is_trading_time",
    "nyse_early_closes",
    "nyse_holidays",
    "nyse_sessions",
    "trading_bounds",
    "trading_mask",
]

NEW_YORK = ZoneInfo("America/New_York")
# pandas converts whole arrays far faster with the named (pytz) zone than with a ZoneInfo.
_NEW_YORK_NAME = "America/New_York"
NYSE_OPEN = time(9, 30)
NYSE_CLOSE = time(16, 0)
NYSE_EARLY_CLOSE = time(13, 0)
# (weekday Monday=0, time) in New York wall-clock time.
FX_WEEK_OPEN = (6, time(17, 0))
FX_WEEK_CLOSE = (4, time(17, 0))
EARLY_CLOSE_RULES_FROM = 2010

NYSE_SPECIAL_CLOSURES: dict[date, str] = {
    date(2001, 9, 11): "September 11 attacks",
    date(2001, 9, 12): "September 11 attacks",
    date(2001, 9, 13): "September 11 attacks",
    date(2001, 9, 14): "September 11 attacks",
    date(2004, 6, 11): "national day of mourning (Ronald Reagan)",
    date(2007, 1, 2): "national day of mourning (Gerald Ford)",
    date(2012, 10, 29): "hurricane Sandy",
    date(2012, 10, 30): "hurricane Sandy",
    date(2018, 12, 5): "national day of mourning (George H. W. Bush)",
    date(2025, 1, 9): "national day of mourning (Jimmy Carter)",
}

_NYSE_HOLIDAY_RULES = (
    Holiday("New Year's Day", month=1, day=1, observance=sunday_to_monday),
    USMartinLutherKingJr,
    USPresidentsDay,
    GoodFriday,
    USMemorialDay,
    Holiday(
        "Juneteenth",
        month=6,
        day=19,
        start_date=pd.Timestamp(2022, 1, 1),
        observance=nearest_workday,
    ),
    Holiday("Independence Day", month=7, day=4, observance=nearest_workday),
    USLaborDay,
    USThanksgivingDay,
    Holiday("Christmas Day", month=12, day=25, observance=nearest_workday),
)

_DAY_MINUTES = 24 * 60
# FX week positions in New York wall-clock minutes since Monday 00:00.
_FX_CLOSED_FROM = FX_WEEK_CLOSE[0] * _DAY_MINUTES + FX_WEEK_CLOSE[1].hour * 60
_FX_CLOSED_UNTIL = FX_WEEK_OPEN[0] * _DAY_MINUTES + FX_WEEK_OPEN[1].hour * 60
_NS = 1_000_000_000
_DAY_NS = 86_400 * _NS

BoolArray = npt.NDArray[np.bool_]
TimesLike: TypeAlias = pd.DatetimeIndex | Sequence[datetime]


# --------------------------------------------------------------------------------------------
# NYSE sessions
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _nyse_year(year: int) -> tuple[npt.NDArray[np.datetime64], BoolArray]:
    """Session dates of one year (datetime64[D]) and which of them close early."""
    first, last = pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31)
    closed: set[np.datetime64] = set()
    for rule in _NYSE_HOLIDAY_RULES:
        closed.update(rule.dates(first, last).to_numpy().astype("datetime64[D]"))
    closed.update(np.datetime64(d, "D") for d in NYSE_SPECIAL_CLOSURES if d.year == year)
    days = np.arange(np.datetime64(f"{year}-01-01"), np.datetime64(f"{year + 1}-01-01"))
    weekday = (days.astype("int64") + 3) % 7  # 1970-01-01 was a Thursday (3)
    keep = (weekday < 5) & ~np.isin(days, np.array(sorted(closed), dtype="datetime64[D]"))
    sessions = days[keep]
    early = np.zeros(len(sessions), dtype=bool)
    if year >= EARLY_CLOSE_RULES_FROM:
        early_days = _early_close_candidates(year)
        early = np.isin(sessions, np.array(early_days, dtype="datetime64[D]"))
    return sessions, early


def _early_close_candidates(year: int) -> list[np.datetime64]:
    thanksgiving = USThanksgivingDay.dates(pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31))
    candidates = [np.datetime64(f"{year}-07-03"), np.datetime64(f"{year}-12-24")]
    candidates.extend(np.datetime64(d.date(), "D") + np.timedelta64(1, "D") for d in thanksgiving)
    return candidates


def _session_arrays(
    first: date, last: date
) -> tuple[npt.NDArray[np.datetime64], npt.NDArray[np.int64], npt.NDArray[np.int64], BoolArray]:
    """Sessions in ``[first, last]``: dates, open and close (UTC ns), early-close flags."""
    if last < first:
        empty = np.array([], dtype="datetime64[D]")
        return empty, np.array([], dtype=np.int64), np.array([], dtype=np.int64), np.array([], bool)
    parts = [_nyse_year(y) for y in range(first.year, last.year + 1)]
    dates = np.concatenate([p[0] for p in parts])
    early = np.concatenate([p[1] for p in parts])
    keep = (dates >= np.datetime64(first, "D")) & (dates <= np.datetime64(last, "D"))
    dates, early = dates[keep], early[keep]
    opens = _local_to_utc_ns(dates, NYSE_OPEN)
    closes = np.where(
        early, _local_to_utc_ns(dates, NYSE_EARLY_CLOSE), _local_to_utc_ns(dates, NYSE_CLOSE)
    )
    return dates, opens, closes, early


def _local_to_utc_ns(dates: npt.NDArray[np.datetime64], at: time) -> npt.NDArray[np.int64]:
    """New York wall-clock ``at`` on each date, as UTC nanoseconds (DST per date)."""
    offset = pd.Timedelta(hours=at.hour, minutes=at.minute)
    local = (pd.DatetimeIndex(dates.astype("datetime64[ns]")) + offset).tz_localize(_NEW_YORK_NAME)
    return np.asarray(local.tz_convert(UTC).asi8, dtype=np.int64)


def nyse_holidays(first: date, last: date) -> list[date]:
    """Weekdays in ``[first, last]`` on which the NYSE is closed (rule holidays and specials)."""
    sessions = set(_session_arrays(first, last)[0].tolist())
    out: list[date] = []
    day = first
    while day <= last:
        if day.weekday() < 5 and day not in sessions:
            out.append(day)
        day += timedelta(days=1)
    return out


def nyse_early_closes(first: date, last: date) -> list[date]:
    """Sessions in ``[first, last]`` that close at 13:00 New York."""
    dates, _, _, early = _session_arrays(first, last)
    return [d.item() for d in dates[early]]


def nyse_sessions(first: date, last: date) -> pd.DataFrame:
    """One row per NYSE session in ``[first, last]``: ``session`` (date), ``open`` and
    ``close`` (UTC timestamps) and ``early_close``."""
    dates, opens, closes, early = _session_arrays(first, last)
    return pd.DataFrame(
        {
            "session": [d.item() for d in dates],
            "open": _as_index(opens),
            "close": _as_index(closes),
            "early_close": early,
        }
    )


# --------------------------------------------------------------------------------------------
# Expected bars
# --------------------------------------------------------------------------------------------


def _utc_index(values: TimesLike) -> pd.DatetimeIndex:
    index = pd.DatetimeIndex(values)
    if len(index) and index.tz is None:
        raise InvalidInputError("open times must be time-zone aware (UTC)")
    if index.tz is None:
        return index.tz_localize(UTC)
    return index.tz_convert(UTC)


def _ns(value: datetime, field: str) -> int:
    return int(pd.Timestamp(require_utc(value, field)).value)


def _as_index(ns: npt.NDArray[np.int64]) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(np.asarray(ns, dtype=np.int64).view("M8[ns]")).tz_localize(UTC)


def _grid(start_ns: int, end_ns: int, step_ns: int) -> npt.NDArray[np.int64]:
    first = -(-start_ns // step_ns) * step_ns
    return np.arange(first, end_ns, step_ns, dtype=np.int64)


def expected_open_times(
    calendar: TradingCalendar, granularity: Granularity, start: datetime, end: datetime
) -> pd.DatetimeIndex:
    """The UTC open times a complete series on ``calendar`` has in ``[start, end)``.

    ``start`` and ``end`` must be time-zone aware; an empty or reversed range gives an empty
    index. See the module docstring for each calendar's grid and labels.
    """
    calendar = TradingCalendar(calendar)
    granularity = Granularity(granularity)
    start_ns, end_ns = _ns(start, "start"), _ns(end, "end")
    if end_ns <= start_ns:
        return _as_index(np.array([], dtype=np.int64))
    step_ns = int(pd.Timedelta(granularity.duration).value)
    if calendar is TradingCalendar.CRYPTO_24_7:
        return _as_index(_grid(start_ns, end_ns, step_ns))
    if calendar is TradingCalendar.FX_24_5:
        grid = _grid(start_ns, end_ns, step_ns)
        return _as_index(grid[_fx_overlaps(grid, step_ns)])
    return _as_index(_nyse_open_times(start_ns, end_ns, step_ns))


def _nyse_open_times(start_ns: int, end_ns: int, step_ns: int) -> npt.NDArray[np.int64]:
    first = pd.Timestamp(start_ns, tz=UTC).date() - timedelta(days=1)
    last = pd.Timestamp(end_ns, tz=UTC).date() + timedelta(days=1)
    dates, opens, closes, _ = _session_arrays(first, last)
    if step_ns >= _DAY_NS:
        times = dates.astype("datetime64[ns]").astype(np.int64)
    else:
        counts = -(-(closes - opens) // step_ns)
        base = np.repeat(opens, counts)
        within = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(
            np.cumsum(counts) - counts, counts
        )
        times = base + within * step_ns
    return times[(times >= start_ns) & (times < end_ns)]


def _week_minutes(ns: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """New York wall-clock minutes since Monday 00:00 for each UTC instant."""
    local = _as_index(ns).tz_convert(_NEW_YORK_NAME)
    local_minutes = np.asarray(local.tz_localize(None).asi8, dtype=np.int64) // (60 * _NS)
    # 1970-01-01 was a Thursday: shift by three days so that 0 is a Monday 00:00.
    return np.asarray((local_minutes + 3 * _DAY_MINUTES) % (7 * _DAY_MINUTES), dtype=np.int64)


def _fx_closed(ns: npt.NDArray[np.int64]) -> BoolArray:
    minutes = _week_minutes(ns)
    return np.asarray((minutes >= _FX_CLOSED_FROM) & (minutes < _FX_CLOSED_UNTIL), dtype=bool)


def _fx_overlaps(open_ns: npt.NDArray[np.int64], step_ns: int) -> BoolArray:
    """Whether each bar ``[t, t + step)`` overlaps FX trading time (step <= 1 day)."""
    if len(open_ns) == 0:
        return np.array([], dtype=bool)
    start = _week_minutes(open_ns)
    end = _week_minutes(open_ns + step_ns)
    inside_weekend = (
        (start >= _FX_CLOSED_FROM)
        & (start < _FX_CLOSED_UNTIL)
        & (end <= _FX_CLOSED_UNTIL)
        & (end >= start)  # ``end < start``: the bar runs past Sunday into the next week
    )
    return np.asarray(~inside_weekend, dtype=bool)


# --------------------------------------------------------------------------------------------
# Trading time and availability
# --------------------------------------------------------------------------------------------


def trading_mask(calendar: TradingCalendar, times: TimesLike) -> BoolArray:
    """For each UTC instant, whether ``calendar`` is trading then (session open, inclusive;
    close, exclusive)."""
    calendar = TradingCalendar(calendar)
    ns = np.asarray(_utc_index(times).asi8, dtype=np.int64)
    if calendar is TradingCalendar.CRYPTO_24_7 or len(ns) == 0:
        return np.ones(len(ns), dtype=bool)
    if calendar is TradingCalendar.FX_24_5:
        return ~_fx_closed(ns)
    opens, closes = _nyse_session_of(ns, by_new_york_date=True)
    return np.asarray((ns >= opens) & (ns < closes), dtype=bool)


def is_trading_time(calendar: TradingCalendar, when: datetime) -> bool:
    """Whether ``calendar`` is trading at the instant ``when`` (time-zone aware)."""
    return bool(trading_mask(calendar, [require_utc(when, "when")])[0])


def _nyse_session_of(
    ns: npt.NDArray[np.int64], *, by_new_york_date: bool
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Open and close (UTC ns) of the session on each instant's date; ``-1`` where none.

    The date is the New York date of the instant, or its UTC date (daily bar labels).
    """
    index = _as_index(ns)
    if by_new_york_date:
        index = index.tz_convert(_NEW_YORK_NAME)
    days = index.tz_localize(None).normalize().to_numpy().astype("datetime64[D]")
    dates, opens, closes, _ = _session_arrays(days.min().item(), days.max().item())
    position = np.searchsorted(dates, days)
    position = np.minimum(position, max(len(dates) - 1, 0))
    found = (dates[position] == days) if len(dates) else np.zeros(len(days), dtype=bool)
    none = np.full(len(days), -1, dtype=np.int64)
    if not len(dates):
        return none, none
    return np.where(found, opens[position], -1), np.where(found, closes[position], -1)


def trading_bounds(
    calendar: TradingCalendar, granularity: Granularity, open_times: TimesLike
) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex]:
    """First and last instant of trading each bar covers.

    NYSE daily bars: the session's open and close. NYSE intraday bars: ``open_time`` and the
    earlier of ``open_time + d`` and the session close. Everything else (including bars off
    the calendar): ``open_time`` and ``open_time + d``.
    """
    calendar = TradingCalendar(calendar)
    granularity = Granularity(granularity)
    index = _utc_index(open_times)
    ns = np.asarray(index.asi8, dtype=np.int64)
    step_ns = int(pd.Timedelta(granularity.duration).value)
    ends = ns + step_ns
    starts = ns.copy()
    if calendar is TradingCalendar.NYSE and len(ns):
        daily = step_ns >= _DAY_NS
        opens, closes = _nyse_session_of(ns, by_new_york_date=not daily)
        if daily:
            found = opens >= 0
            starts = np.where(found, opens, starts)
            ends = np.where(found, closes, ends)
        else:
            inside = (ns >= opens) & (ns < closes)
            ends = np.where(inside, np.minimum(ends, closes), ends)
    return _as_index(starts), _as_index(ends)


def bar_available_at(
    calendar: TradingCalendar, granularity: Granularity, open_times: TimesLike
) -> pd.DatetimeIndex:
    """When each bar is first known: when it stops trading.

    NYSE: the end of :func:`trading_bounds` (a daily bar at its session's 16:00 New York
    close, 13:00 on early closes, DST-correct; the last hourly bar at the close). FX and crypto:
    ``open_time + d``.
    """
    return trading_bounds(calendar, granularity, open_times)[1]
