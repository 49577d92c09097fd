"""``quantdesk ingest``: fetch bars from a source into the raw zone, then gate them into clean."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from quantdesk.commands.context import console, current_settings
from quantdesk.commands.options import midnight_utc, parse_utc, split_symbols


def ingest(
    source: Annotated[
        str,
        typer.Option(
            help="embedded (bundled real history, synthetic elsewhere), bundled, synthetic, "
            "coinbase, oanda or robinhood."
        ),
    ] = "embedded",
    symbols: Annotated[
        str | None, typer.Option(help="Comma-separated canonical symbols; default the universe.")
    ] = None,
    start: Annotated[
        str | None, typer.Option(help="UTC date or time; default QUANTDESK_EMBEDDED__START.")
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(help="UTC date or time, exclusive; default QUANTDESK_EMBEDDED__END."),
    ] = None,
    granularity: Annotated[str, typer.Option(help="1m, 5m, 15m, 1h, 6h or 1d.")] = "1d",
    validate: Annotated[
        bool, typer.Option(help="Run the quality gate into the clean zone afterwards.")
    ] = True,
) -> None:
    """Fetch [start, end) into the raw zone; nothing is written if any series fails to fetch."""
    from quantdesk.pipelines.market_data import ingest_market_data, validate_market_data

    settings = current_settings()
    first = parse_utc(start, "--start") if start else midnight_utc(settings.embedded.start)
    last = parse_utc(end, "--end") if end else midnight_utc(settings.embedded.end)
    names = split_symbols(symbols)
    summary = ingest_market_data(
        settings, source=source, symbols=names, granularity=granularity, start=first, end=last
    )
    table = Table(title=f"Ingested from {summary.source} ({summary.granularity})")
    table.add_column("symbol")
    table.add_column("bars", justify="right")
    for symbol, rows in summary.rows_by_symbol.items():
        table.add_row(symbol, str(rows))
    console.print(table)
    typer.echo(
        f"raw zone: {summary.new} new, {summary.replaced} corrected, "
        f"{summary.unchanged} unchanged bars"
    )
    if not validate:
        return
    result = validate_market_data(
        settings, symbols=names, granularity=granularity, start=first, end=last
    )
    for batch in result.batches:
        verdict = "clean" if batch.passed else f"QUARANTINED as {batch.quarantine_id}"
        typer.echo(f"{batch.asset_class}: {batch.rows} bars {verdict} ({batch.reason})")
    if not result.passed:
        raise typer.Exit(1)
