"""``quantdesk backtest``: a walk-forward backtest from the clean lake, a tearsheet, metrics."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from quantdesk.commands.context import console, current_settings
from quantdesk.commands.options import midnight_utc, parse_utc, split_symbols

app = typer.Typer(help="Walk-forward backtests net of costs, with an HTML tearsheet.")


@app.callback(invoke_without_command=True)
def backtest(
    start: Annotated[
        str | None, typer.Option(help="First day (UTC), inclusive; default the embedded start.")
    ] = None,
    end: Annotated[
        str | None, typer.Option(help="Last day (UTC), exclusive; default the embedded end.")
    ] = None,
    strategy: Annotated[str, typer.Option(help="A registered strategy, e.g. sma.")] = "sma",
    symbols: Annotated[
        str | None, typer.Option(help="Comma-separated symbols; default: the universe.")
    ] = None,
) -> None:
    """Run the walk-forward backtest, write the report under <home>/reports, print metrics."""
    from quantdesk.pipelines.backtest import run_backtest

    settings = current_settings()
    summary = run_backtest(
        settings,
        parse_utc(start, "--start") if start else midnight_utc(settings.embedded.start),
        parse_utc(end, "--end") if end else midnight_utc(settings.embedded.end),
        strategy=strategy,
        symbols=split_symbols(symbols),
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
