"""``quantdesk compliance ...``: the daily compliance export, run by hand as the DAG runs it."""

from __future__ import annotations

from typing import Annotated

import typer

from quantdesk.commands.context import current_settings

app = typer.Typer(help="Compliance exports: decisions, orders, breaches and model versions.")


@app.command("export")
def export(
    day: Annotated[str, typer.Option("--day", help="UTC day to export, YYYY-MM-DD.")],
) -> None:
    """Write <export_dir>/<day>/ as CSV and Parquet with a SHA-256 manifest (idempotent)."""
    from quantdesk.pipelines.export_compliance import export_compliance

    summary = export_compliance(current_settings(), day)
    state = "written" if summary.changed else "unchanged (identical export already there)"
    typer.echo(f"{summary.location}: {state}")
    for table, rows in summary.rows.items():
        typer.echo(f"{table}\t{rows} rows")
