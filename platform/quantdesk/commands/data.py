"""``quantdesk data ...``: what the lake holds, its quality, and its retention."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
from rich.table import Table

from quantdesk.commands.context import console, current_settings

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
