"""``quantdesk pipeline run``: the whole batch pipeline once, with progress (``make demo``)."""

from __future__ import annotations

import typer
from rich.table import Table

from quantdesk.commands.context import console, current_settings

app = typer.Typer(help="The main job: every batch step once, on the configured data.")


@app.command("run")
def run() -> None:
    """Ingest, validate, build and materialize features, train, backtest, back up, export."""
    from quantdesk.pipelines.main_job import StepOutcome, run_main_job

    def progress(name: str, outcome: StepOutcome | None) -> None:
        if outcome is None:
            console.print(f"[bold]>> {name}[/bold] ...")
        else:
            console.print(f"   done in {outcome.seconds:.1f} s")

    settings = current_settings()
    report = run_main_job(settings, progress)
    table = Table(title=f"Main job finished in {report.seconds:.0f} s")
    table.add_column("step")
    table.add_column("seconds", justify="right")
    table.add_column("produced")
    for step in report.steps:
        table.add_row(step.name, f"{step.seconds:.1f}", step.produced)
    console.print(table)
    console.print(
        "Everything lives under "
        f"{settings.home}. Open the Airflow UI with `make airflow` (http://127.0.0.1:8080)."
    )
