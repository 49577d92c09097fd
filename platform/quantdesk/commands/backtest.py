"""``quantdesk backtest``: a walk-forward backtest from the clean lake, a tearsheet, metrics."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from quantdesk.commands.context import console, current_settings
from quantdesk.domain import InvalidDateRangeError

app = typer.Typer(help="Walk-forward backtests net of costs, with an HTML tearsheet.")


def _utc_day(text: str, option: str) -> datetime:
    """``YYYY-MM-DD`` (or a full ISO time) as an aware UTC datetime."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidDateRangeError(f"{option}: expected YYYY-MM-DD, got {text!r}") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@app.callback(invoke_without_command=True)
def backtest(
    start: Annotated[str, typer.Option(help="First day (YYYY-MM-DD, UTC), inclusive.")],
    end: Annotated[str, typer.Option(help="Last day (YYYY-MM-DD, UTC), exclusive.")],
    strategy: Annotated[str, typer.Option(help="A registered strategy, e.g. sma.")] = "sma",
    symbols: Annotated[
        str | None, typer.Option(help="Comma-separated symbols; default: the universe.")
    ] = None,
) -> None:
    """Run the walk-forward backtest, write the report under <home>/reports, print metrics."""
    from quantdesk.pipelines.backtest import run_backtest

    names = [s.strip() for s in symbols.split(",") if s.strip()] if symbols else None
    summary = run_backtest(
        current_settings(),
        _utc_day(start, "--start"),
        _utc_day(end, "--end"),
        strategy=strategy,
        symbols=names,
    )
    table = Table(title=f"{summary.strategy} on {', '.join(summary.symbols)} (out of sample)")
    scales = list(summary.cost_sensitivity)
    table.add_column("metric")
    for scale in scales:
        table.add_column(f"costs {scale}", justify="right")
    for name in summary.metrics:
        row = [summary.cost_sensitivity[s][name] for s in scales]
        table.add_row(name, *(f"{v:.4f}" if isinstance(v, float) else str(v) for v in row))
    console.print(table)
    typer.echo(f"report: {summary.report_path}")
    typer.echo(f"metrics: {summary.metrics_path}")
