"""An HTML tearsheet of a walk-forward backtest, written atomically under ``<home>/reports/``.

One self-contained file (plotly.js inlined once, so it opens offline): headline metrics, a
cost-sensitivity table (the same out-of-sample weights at 0.5x, 1x, 2x costs), the folds, and
charts of equity against a benchmark, drawdown, monthly returns, rolling Sharpe and exposure.
Pure rendering (:func:`render_tearsheet`) is kept apart from the file write.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from quantdesk.backtest.metrics import PerformanceMetrics, drawdown, rolling_sharpe
from quantdesk.backtest.walk_forward import WalkForwardResult
from quantdesk.data.atomic_files import write_file_atomic

_PERCENT = {"total_return", "cagr", "volatility", "max_drawdown", "hit_rate", "time_in_market"}


@dataclass(frozen=True, slots=True)
class TearsheetInput:
    """Everything a tearsheet shows."""

    title: str
    run: WalkForwardResult
    metrics: PerformanceMetrics
    sensitivity: Mapping[float, PerformanceMetrics]
    benchmark: pd.Series | None  # benchmark equity on the same bars, or None
    benchmark_name: str
    periods_per_year: int
    rolling_window: int


def _format(name: str, value: float | int) -> str:
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "n/a"
    if name in _PERCENT:
        return f"{value:.2%}"
    if name == "costs_paid":
        return f"{value:,.2f}"
    return f"{value:.3f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def monthly_returns(returns: pd.Series) -> pd.DataFrame:
    """Compounded return per calendar month: years as rows, months 1..12 as columns."""
    index = pd.DatetimeIndex(returns.index)
    frame = pd.DataFrame(
        {"year": index.year, "month": index.month, "growth": 1.0 + returns.to_numpy()}
    )
    table = frame.groupby(["year", "month"])["growth"].prod().sub(1.0).unstack("month")
    return table.reindex(columns=range(1, 13))


def _figures(data: TearsheetInput) -> list[object]:
    import plotly.graph_objects as go

    result = data.run.result
    equity = result.equity / result.initial_equity
    returns = result.returns
    figures: list[object] = []

    curve = go.Figure()
    curve.add_trace(go.Scatter(x=equity.index, y=equity.to_numpy(), name=data.run.strategy))
    if data.benchmark is not None:
        bench = data.benchmark / data.benchmark.iloc[0]
        curve.add_trace(go.Scatter(x=bench.index, y=bench.to_numpy(), name=data.benchmark_name))
    curve.update_layout(title="Equity (out of sample, net of costs)", yaxis_title="growth of 1")
    figures.append(curve)

    under = drawdown(returns.to_numpy()[1:])
    fall = go.Figure(go.Scatter(x=returns.index[1:], y=under, fill="tozeroy", name="drawdown"))
    fall.update_layout(title="Drawdown", yaxis_tickformat=".0%")
    figures.append(fall)

    months = monthly_returns(returns.iloc[1:])
    heat = go.Figure(
        go.Heatmap(
            z=months.to_numpy(),
            x=[str(m) for m in months.columns],
            y=[str(y) for y in months.index],
            colorscale="RdYlGn",
            zmid=0.0,
            text=[[("" if np.isnan(v) else f"{v:.1%}") for v in row] for row in months.to_numpy()],
            texttemplate="%{text}",
        )
    )
    heat.update_layout(title="Monthly returns", xaxis_title="month", yaxis_title="year")
    figures.append(heat)

    sharpe = rolling_sharpe(returns.iloc[1:], data.rolling_window, data.periods_per_year)
    rolling = go.Figure(go.Scatter(x=sharpe.index, y=sharpe.to_numpy(), name="rolling Sharpe"))
    rolling.update_layout(title=f"Rolling Sharpe ({data.rolling_window} bars)")
    figures.append(rolling)

    exposure = go.Figure()
    exposure.add_trace(go.Scatter(x=result.weights.index, y=result.gross_exposure, name="gross"))
    exposure.add_trace(go.Scatter(x=result.weights.index, y=result.net_exposure, name="net"))
    exposure.update_layout(title="Exposure (fraction of equity)")
    figures.append(exposure)
    return figures


def render_tearsheet(data: TearsheetInput) -> str:
    """The whole HTML document."""
    metric_rows = [[name, _format(name, value)] for name, value in data.metrics.as_dict().items()]
    scales = sorted(data.sensitivity)
    sensitivity_rows = [
        [f"{scale:g}x", *(_format(k, getattr(data.sensitivity[scale], k)) for k in _SENSITIVITY)]
        for scale in scales
    ]
    fold_rows = [
        [
            str(f.index),
            f.strategy,
            f"{f.train_start:%Y-%m-%d} → {f.train_end:%Y-%m-%d}",
            f"{f.test_start:%Y-%m-%d} → {f.test_end:%Y-%m-%d}",
        ]
        for f in data.run.folds
    ]
    charts = []
    for number, figure in enumerate(_figures(data)):
        plotlyjs = "inline" if number == 0 else False
        charts.append(figure.to_html(full_html=False, include_plotlyjs=plotlyjs))  # type: ignore[attr-defined]
    title = html.escape(data.title)
    symbols = html.escape(", ".join(data.run.panel.symbols))
    span = f"{data.run.panel.index[0]:%Y-%m-%d} → {data.run.panel.index[-1]:%Y-%m-%d}"
    return "\n".join(
        [
            "<!DOCTYPE html>",
            f'<html lang="en"><head><meta charset="utf-8"><title>{title}</title>',
            f"<style>{_STYLE}</style></head><body>",
            f"<h1>{title}</h1>",
            f"<p>Strategy <b>{html.escape(data.run.strategy)}</b> on {symbols}; out-of-sample "
            f"{span}; {len(data.run.folds)} walk-forward folds; all figures net of costs.</p>",
            "<h2>Metrics</h2>",
            _table(["metric", "value"], metric_rows),
            "<h2>Cost sensitivity</h2>",
            _table(["costs", *_SENSITIVITY], sensitivity_rows),
            "<h2>Walk-forward folds</h2>",
            _table(["fold", "fitted", "train", "test"], fold_rows),
            *charts,
            "</body></html>",
        ]
    )


_SENSITIVITY = ("total_return", "cagr", "sharpe", "max_drawdown", "costs_paid", "deflated_sharpe")
_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}"
    "table{border-collapse:collapse;margin-bottom:1em}"
    "td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}"
    "th{background:#f4f4f4}"
)


def write_tearsheet(data: TearsheetInput, reports_dir: Path, name: str) -> Path:
    """Render and write ``<reports_dir>/<name>.html`` atomically; reruns overwrite it."""
    document = render_tearsheet(data).encode("utf-8")
    path = reports_dir / f"{name}.html"
    write_file_atomic(path, lambda handle: handle.write(document))
    return path
