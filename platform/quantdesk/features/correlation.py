"""Rolling correlation and beta of each symbol's log returns to the benchmark's (60 bars).

The benchmark's return is measured between the benchmark closes *known* at two consecutive
bars of the symbol (see :mod:`quantdesk.features.panel`), so calendars need not match: for a
crypto Saturday the index did not move (its last known close is Friday's), and an equity
never sees an index close published after its own bar. The benchmark itself gets 1 and 1.
"""

from __future__ import annotations

import numpy as np

from quantdesk.features.indicators import log_return
from quantdesk.features.panel import FloatArray, Panel
from quantdesk.features.windows import lag, rolling_cov, safe_divide

CROSS_WINDOW = 60


def benchmark_log_return(panel: Panel) -> FloatArray:
    """The benchmark's log return over each symbol bar (NaN without a benchmark)."""
    if panel.benchmark_close is None:
        return np.full(panel.shape, np.nan)
    bench = panel.benchmark_close
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FloatArray = np.log(safe_divide(bench, lag(bench, 1)))
    return out


def correlation_and_beta(panel: Panel) -> tuple[FloatArray, FloatArray]:
    """(correlation, beta) over the trailing ``CROSS_WINDOW`` bars; NaN if the index is flat."""

    def compute() -> tuple[FloatArray, FloatArray]:
        own, bench = log_return(panel), benchmark_log_return(panel)
        cov = rolling_cov(own, bench, CROSS_WINDOW)
        own_var = np.clip(rolling_cov(own, own, CROSS_WINDOW), 0.0, None)
        bench_var = np.clip(rolling_cov(bench, bench, CROSS_WINDOW), 0.0, None)
        corr = safe_divide(cov, np.sqrt(own_var * bench_var))
        return np.clip(corr, -1.0, 1.0), safe_divide(cov, bench_var)

    result: tuple[FloatArray, FloatArray] = panel.cached("cross_asset", compute)
    return result
