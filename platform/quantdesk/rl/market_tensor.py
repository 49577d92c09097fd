"""The arrays an RL environment steps over: one aligned (time, symbol, feature) cube and prices.

Built once (pandas allowed here), then stepped with pure NumPy. Row ``t`` of ``features`` holds
what is known when bar ``t`` closes; ``prices[t]`` is that bar's close. Nothing else about time
is assumed, so the same tensor serves daily bars, hourly bars or the synthetic market.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from quantdesk.domain.errors import InvalidInputError

FloatArray = npt.NDArray[np.float64]
TimeArray = npt.NDArray[np.datetime64]


@dataclass(frozen=True, slots=True, eq=False)
class MarketTensor:
    """Aligned closes ``(T, N)`` and features ``(T, N, F)`` on one UTC time axis ``(T,)``."""

    times: TimeArray
    symbols: tuple[str, ...]
    feature_names: tuple[str, ...]
    prices: FloatArray
    features: FloatArray

    def __post_init__(self) -> None:
        times = np.asarray(self.times, dtype="datetime64[ns]")
        prices = np.ascontiguousarray(self.prices, dtype=np.float64)
        features = np.ascontiguousarray(self.features, dtype=np.float64)
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "symbols", tuple(self.symbols))
        object.__setattr__(self, "feature_names", tuple(self.feature_names))
        object.__setattr__(self, "prices", prices)
        object.__setattr__(self, "features", features)
        t, n, f = len(times), len(self.symbols), len(self.feature_names)
        if n == 0 or f == 0:
            raise InvalidInputError("market tensor needs at least one symbol and one feature")
        if prices.shape != (t, n):
            raise InvalidInputError(f"prices must have shape {(t, n)}, got {prices.shape}")
        if features.shape != (t, n, f):
            raise InvalidInputError(f"features must have shape {(t, n, f)}, got {features.shape}")
        if t < 2:
            raise InvalidInputError("market tensor needs at least two time steps")
        if np.any(np.diff(times.astype(np.int64)) <= 0):
            raise InvalidInputError("market tensor times must be strictly increasing")
        if not np.all(np.isfinite(prices)) or np.any(prices <= 0):
            raise InvalidInputError("market tensor prices must be finite and positive")
        bad = ~np.isfinite(features)
        if bad.any():
            ti, ni, fi = np.argwhere(bad)[0]
            raise InvalidInputError(
                f"feature {self.feature_names[fi]!r} of {self.symbols[ni]!r} is not finite at "
                f"{times[ti]} (drop warm-up rows before building the tensor)"
            )

    def __len__(self) -> int:
        return len(self.times)

    def between(self, start: np.datetime64 | str, end: np.datetime64 | str) -> MarketTensor:
        """Rows with ``start <= time < end`` (a date range of an episode or a window)."""
        bounds = np.asarray([start, end], dtype="datetime64[ns]")
        lo, hi = np.searchsorted(self.times, bounds)
        return self.rows(int(lo), int(hi))

    def rows(self, lo: int, hi: int) -> MarketTensor:
        """Rows ``lo`` to ``hi`` (exclusive) as a new tensor."""
        return MarketTensor(
            self.times[lo:hi],
            self.symbols,
            self.feature_names,
            self.prices[lo:hi],
            self.features[lo:hi],
        )

    def select_features(self, names: Sequence[str]) -> MarketTensor:
        """Only the named features, in that order; raises naming an unknown one."""
        missing = [n for n in names if n not in self.feature_names]
        if missing:
            raise InvalidInputError(
                f"features not in the tensor: {', '.join(missing)}; "
                f"have {', '.join(self.feature_names)}"
            )
        index = [self.feature_names.index(n) for n in names]
        return MarketTensor(
            self.times, self.symbols, tuple(names), self.prices, self.features[:, :, index]
        )

    @classmethod
    def from_frames(cls, closes: pd.DataFrame, features: pd.DataFrame) -> MarketTensor:
        """From a wide close frame (time index × symbols) and a long feature frame.

        ``features`` has columns ``time``, ``symbol`` and one column per feature. Only times
        where every symbol has a close and every feature is set are kept, so the tensor is
        complete (a missing bar drops that row for all symbols).
        """
        if "time" not in features.columns or "symbol" not in features.columns:
            raise InvalidInputError("feature frame needs columns 'time' and 'symbol'")
        symbols = [str(s) for s in closes.columns]
        names = [c for c in features.columns if c not in ("time", "symbol")]
        if not names:
            raise InvalidInputError("feature frame has no feature columns")
        index = pd.DatetimeIndex(pd.to_datetime(closes.index, utc=True))
        wide = features.assign(time=pd.to_datetime(features["time"], utc=True)).pivot_table(
            index="time", columns="symbol", values=names, aggfunc="last", dropna=False
        )
        common = index.intersection(pd.DatetimeIndex(wide.index))
        close = closes.set_axis(index).reindex(common)
        cube = np.stack(
            [
                np.stack(
                    [wide[(name, s)].reindex(common).to_numpy(np.float64) for name in names],
                    axis=-1,
                )
                if s in wide[names[0]].columns
                else np.full((len(common), len(names)), np.nan)
                for s in symbols
            ],
            axis=1,
        )
        prices = close.to_numpy(np.float64)
        keep = np.isfinite(prices).all(axis=1) & np.isfinite(cube).all(axis=(1, 2))
        times = common.tz_convert("UTC").tz_localize(None).to_numpy("datetime64[ns]")
        return cls(times[keep], tuple(symbols), tuple(names), prices[keep], cube[keep])
