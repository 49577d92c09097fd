"""The feature builder: canonical bars of many symbols in, one causal feature frame out.

The output has one row per input bar, keyed (``symbol``, ``open_time``), with
``event_timestamp`` = when the row's inputs were all known (the running maximum of the bars'
``available_at``, see :mod:`quantdesk.features.panel`) and one float64 column per feature in
:data:`quantdesk.features.names.ALL_FEATURES` order. Every feature is computed once for all
symbols at a time.

Labels look forward and live in :mod:`quantdesk.features.labels`. The builder refuses a
:class:`~quantdesk.features.labels.Labels` object and any column named ``label_*``, so a
target can never be read as an input by accident.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from quantdesk.data.bars import BAR_COLUMNS, normalize_bar_frame
from quantdesk.domain import InvalidInputError
from quantdesk.features.labels import Labels
from quantdesk.features.names import ENTITY_JOIN_KEY, EVENT_TIMESTAMP
from quantdesk.features.panel import build_panel, utc_nanos
from quantdesk.features.registry import FEATURE_SPECS, LABEL_PREFIX, FeatureSpec

__all__ = ["KEY_COLUMNS", "compute_features", "refuse_labels"]

KEY_COLUMNS: tuple[str, ...] = (ENTITY_JOIN_KEY, "open_time", EVENT_TIMESTAMP)


def refuse_labels(frame: object) -> None:
    """Raise if ``frame`` is, or carries, a label: labels are targets, never inputs."""
    if isinstance(frame, Labels):
        raise InvalidInputError("labels are targets, never feature inputs: pass bars")
    if not isinstance(frame, pd.DataFrame):
        raise InvalidInputError(f"expected a canonical bar frame, got {type(frame).__name__}")
    leaked = [str(c) for c in frame.columns if str(c).startswith(LABEL_PREFIX)]
    if leaked:
        raise InvalidInputError(
            f"label columns must never reach the feature builder: {', '.join(leaked)}"
        )


def _canonical(bars: pd.DataFrame) -> pd.DataFrame:
    """The bars in canonical form, sorted; skips the full normalisation when already there."""
    expected = normalize_bar_frame(bars.head(0)).dtypes if len(bars) else None
    if expected is None or list(bars.columns) != list(BAR_COLUMNS):
        return normalize_bar_frame(bars)
    if not bars.dtypes.equals(expected):
        return normalize_bar_frame(bars)
    codes = pd.factorize(bars["symbol"], sort=True)[0]
    times = utc_nanos(bars["open_time"])
    same = codes[1:] == codes[:-1]
    ordered = bool(np.all((codes[1:] > codes[:-1]) | (same & (times[1:] > times[:-1]))))
    if ordered:
        return bars.reset_index(drop=True)
    order = np.lexsort((times, codes))
    return bars.iloc[order].reset_index(drop=True)


def _specs(features: Sequence[str] | None) -> list[FeatureSpec]:
    if features is None:
        return list(FEATURE_SPECS.values())
    unknown = [f for f in features if f not in FEATURE_SPECS]
    if unknown:
        raise InvalidInputError(f"unknown features: {', '.join(unknown)}")
    return [FEATURE_SPECS[f] for f in dict.fromkeys(features)]


def compute_features(
    bars: pd.DataFrame,
    benchmark_symbol: str | None,
    features: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Features of every bar in ``bars`` (one bar size), keyed and timed as described above.

    ``benchmark_symbol`` must be among the bars' symbols for the cross-asset features;
    ``None`` leaves them NaN. ``features`` picks a subset (default: all, in names order).
    """
    refuse_labels(bars)
    bars = _canonical(bars)
    specs = _specs(features)
    panel = build_panel(bars, benchmark_symbol)
    known = panel.known_at[panel.rows, panel.cols]
    out = pd.DataFrame(
        {
            ENTITY_JOIN_KEY: bars["symbol"].astype("string"),
            "open_time": bars["open_time"],
            EVENT_TIMESTAMP: pd.Series(
                pd.DatetimeIndex(known.view("datetime64[ns]")).tz_localize("UTC"), index=bars.index
            ),
        }
    )
    columns = {spec.name: panel.flatten(spec.compute(panel)) for spec in specs}
    return pd.concat([out, pd.DataFrame(columns, index=out.index)], axis=1)
