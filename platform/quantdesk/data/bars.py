"""The canonical bar frame: the one columnar shape bars take between sources, lake and features.

Single bars travel as :class:`quantdesk.domain.Bar`; batches travel as a pandas DataFrame with
exactly these columns and dtypes, sorted by (symbol, open_time), so every stage can be
vectorized and every stage can check what it was handed.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from quantdesk.domain import Bar, Granularity, InvalidInputError, Venue

BAR_COLUMNS: tuple[str, ...] = (
    "symbol",
    "venue",
    "granularity",
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "available_at",
)
PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close")
TIME_COLUMNS: tuple[str, ...] = ("open_time", "available_at")
KEY_COLUMNS: tuple[str, ...] = ("symbol", "granularity", "open_time")


def empty_bar_frame() -> pd.DataFrame:
    return normalize_bar_frame(pd.DataFrame({c: [] for c in BAR_COLUMNS}))


def normalize_bar_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Coerce a frame to the canonical columns and dtypes, sorted; raise naming what is wrong.

    This checks shape and types only; whether the numbers make sense is the quality gate's job.
    """
    missing = [c for c in BAR_COLUMNS if c not in frame.columns]
    if missing:
        raise InvalidInputError(f"bar frame is missing columns: {', '.join(missing)}")
    out = frame.loc[:, list(BAR_COLUMNS)].copy()
    for column in TIME_COLUMNS:
        values = out[column]
        if (
            len(values)
            and not isinstance(values.dtype, pd.DatetimeTZDtype)
            and (
                pd.api.types.is_datetime64_any_dtype(values)
                or values.map(lambda v: getattr(v, "tzinfo", None) is None).any()
            )
        ):
            raise InvalidInputError(f"bar frame column {column!r} must be time-zone aware")
        out[column] = pd.to_datetime(values, utc=True).astype("datetime64[ns, UTC]")
    for column in (*PRICE_COLUMNS, "volume"):
        try:
            out[column] = out[column].astype("float64")
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(f"bar frame column {column!r} is not numeric: {exc}") from None
    for column in ("symbol", "venue", "granularity"):
        out[column] = out[column].astype("string")
    unknown_granularity = set(out["granularity"].dropna()) - {g.value for g in Granularity}
    if unknown_granularity:
        raise InvalidInputError(f"unknown granularity in bar frame: {sorted(unknown_granularity)}")
    unknown_venue = set(out["venue"].dropna()) - {v.value for v in Venue}
    if unknown_venue:
        raise InvalidInputError(f"unknown venue in bar frame: {sorted(unknown_venue)}")
    return out.sort_values(["symbol", "open_time"], kind="stable").reset_index(drop=True)


def bars_to_frame(bars: Iterable[Bar]) -> pd.DataFrame:
    rows = [
        {
            "symbol": b.symbol,
            "venue": b.venue.value,
            "granularity": b.granularity.value,
            "open_time": b.open_time,
            "open": b.open,
            "high": b.high,
            "low": b.low,
            "close": b.close,
            "volume": b.volume,
            "available_at": b.available_at,
        }
        for b in bars
    ]
    return normalize_bar_frame(pd.DataFrame(rows, columns=list(BAR_COLUMNS)))


def frame_to_bars(frame: pd.DataFrame) -> list[Bar]:
    """Validated domain bars from a frame (raises on the first invalid row)."""
    frame = normalize_bar_frame(frame)
    return [
        Bar(
            symbol=str(r.symbol),
            venue=Venue(str(r.venue)),
            granularity=Granularity(str(r.granularity)),
            open_time=r.open_time.to_pydatetime(),
            open=float(r.open),
            high=float(r.high),
            low=float(r.low),
            close=float(r.close),
            volume=float(r.volume),
            available_at=r.available_at.to_pydatetime(),
        )
        for r in frame.itertuples(index=False)
    ]


def ohlc_violations(frame: pd.DataFrame) -> np.ndarray:
    """Boolean mask of rows whose OHLC values contradict each other or are not positive."""
    o, h, lo, c = (frame[col].to_numpy() for col in PRICE_COLUMNS)
    with np.errstate(invalid="ignore"):
        bad: np.ndarray = (
            (h < np.maximum.reduce([o, c, lo]))
            | (lo > np.minimum(o, c))
            | ~(np.isfinite(o) & np.isfinite(h) & np.isfinite(lo) & np.isfinite(c))
            | (lo <= 0)
        )
    return bad
