"""``quantdesk data ...``: what the lake holds, its quality, and its retention."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
from rich.table import Table

from quantdesk.commands.context import console, current_settings
from quantdesk.commands.options import midnight_utc, parse_utc, split_symbols

app = typer.Typer(help="The Parquet lake: coverage, quality reports, retention.")


@app.command("coverage")
def coverage(
    zone: Annotated[str, typer.Option(help="raw, clean or quarantine.")] = "clean",
) -> None:
    """Per symbol and bar size: the span held and how many bars and versions."""
    from quantdesk.data.lake import Lake

    rows = Lake(current_settings().lake_dir).coverage(zone)
    if not rows:
        typer.echo(f"the {zone} zone is empty")
        return
    table = Table(title=f"Lake coverage ({zone})")
    for column in ("symbol", "class", "bar", "first", "last", "bars", "versions"):
        table.add_column(column)
    for c in rows:
        table.add_row(
            c.symbol, c.asset_class or "?", c.granularity, c.first_open_time.isoformat(),
            c.last_open_time.isoformat(), str(c.bars), str(c.versions),
        )  # fmt: skip
    console.print(table)


@app.command("quality")
def quality(
    start: Annotated[str | None, typer.Option(help="UTC date; default the embedded start.")] = None,
    end: Annotated[str | None, typer.Option(help="UTC date; default the embedded end.")] = None,
    symbols: Annotated[str | None, typer.Option(help="Comma-separated; default universe.")] = None,
    granularity: Annotated[str, typer.Option(help="Bar size.")] = "1d",
    docs: Annotated[
        bool, typer.Option(help="Also rebuild the Great Expectations Data Docs.")
    ] = False,
) -> None:
    """Re-run the quality gate over the raw zone; print each series' score and issues."""
    from quantdesk.data.quality import build_data_docs, docs_dir, results_dir
    from quantdesk.pipelines.market_data import validate_market_data

    settings = current_settings()
    first = parse_utc(start, "--start") if start else midnight_utc(settings.embedded.start)
    last = parse_utc(end, "--end") if end else midnight_utc(settings.embedded.end)
    result = validate_market_data(
        settings, symbols=split_symbols(symbols), granularity=granularity, start=first, end=last
    )
    table = Table(title=f"Quality gate, {granularity} bars {first:%Y-%m-%d}..{last:%Y-%m-%d}")
    for column in ("class", "symbols", "bars", "verdict", "reason"):
        table.add_column(column)
    for b in result.batches:
        verdict = "clean" if b.passed else f"quarantined {b.quarantine_id}"
        table.add_row(b.asset_class, ",".join(b.symbols), str(b.rows), verdict, b.reason)
    console.print(table)
    typer.echo(f"results: {results_dir(settings)}")
    if docs:
        index = build_data_docs(results_dir(settings), docs_dir(settings))
        typer.echo(f"data docs: {index}")
    if not result.passed:
        raise typer.Exit(1)


@app.command("quarantine")
def quarantine() -> None:
    """Rejected batches, oldest first, with their reasons."""
    from quantdesk.data.lake import Lake

    batches = Lake(current_settings().lake_dir).list_quarantine()
    if not batches:
        typer.echo("the quarantine is empty")
        return
    for b in batches:
        typer.echo(f"{b.batch_id}\t{b.quarantined_at.isoformat()}\t{b.rows} bars\t{b.reason}")


@app.command("retention")
def retention(
    dry_run: Annotated[
        bool, typer.Option(help="List what would be deleted, delete nothing.")
    ] = False,
) -> None:
    """Apply the per-zone retention policy (QUANTDESK_RETENTION__*_DAYS)."""
    from quantdesk.data.lake import Lake, Zone

    settings = current_settings()
    days = {
        Zone.RAW: settings.retention.raw_days,
        Zone.CLEAN: settings.retention.clean_days,
        Zone.QUARANTINE: settings.retention.quarantine_days,
    }
    policy = {zone: None if d is None else timedelta(days=d) for zone, d in days.items()}
    summary = Lake(settings.lake_dir).apply_retention(policy, dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    for path in summary.deleted:
        typer.echo(f"{verb} {path}")
    kept = ", ".join(
        f"{z.value}: {'forever' if d is None else f'{d} days'}" for z, d in days.items()
    )
    typer.echo(f"{verb} {len(summary.deleted)} partitions ({kept})")
