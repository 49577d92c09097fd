"""``quantdesk decide``: today's risk-checked target weights, every decision recorded."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from quantdesk.commands.context import console, current_settings
from quantdesk.commands.options import parse_utc, split_symbols

app = typer.Typer(help="Decide target weights from the champion models (or the SMA fallback).")


@app.callback(invoke_without_command=True)
def decide(
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Decision time (UTC); default: the newest clean bar's close."),
    ] = None,
    symbols: Annotated[
        str | None, typer.Option(help="Comma-separated symbols; default: the universe.")
    ] = None,
) -> None:
    """Run the decision engine and the pre-trade checks; record decisions; print targets."""
    from quantdesk.pipelines.decide import make_decisions

    summary = make_decisions(
        current_settings(),
        parse_utc(as_of, "--as-of") if as_of else None,
        split_symbols(symbols),
    )
    table = Table(
        title=f"Decisions at {summary.as_of:%Y-%m-%d %H:%M} UTC ({summary.signal_source})"
    )
    table.add_column("symbol")
    table.add_column("target", justify="right")
    table.add_column("approved", justify="right")
    for symbol, target in summary.targets.items():
        table.add_row(symbol, f"{target:+.4f}", f"{summary.approved.get(symbol, 0.0):+.4f}")
    console.print(table)
    typer.echo(
        f"state: {summary.trading_state}; decisions: {summary.decisions} "
        f"({summary.written} new, {summary.already_stored} already stored); "
        f"denied: {', '.join(summary.denied) or 'none'}"
    )
    versions = ", ".join(f"{k}={v}" for k, v in sorted(summary.model_versions.items()))
    typer.echo(f"models: {versions or 'none'}")
    for note in summary.notes:
        typer.echo(f"note: {note}")
