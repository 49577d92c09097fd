"""``quantdesk step run``: run one batch step by name, as a DAG task or a pod does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from quantdesk.commands.context import current_settings

app = typer.Typer(help="Run one batch step (quantdesk.pipelines.<module>:<function>).")


@app.command("run")
def run(
    target: Annotated[str, typer.Argument(help="quantdesk.pipelines.<module>:<function>")],
    param: Annotated[
        list[str] | None, typer.Option("--param", help="key=value, repeatable.")
    ] = None,
    xcom_file: Annotated[
        Path | None, typer.Option(help="Also write the JSON summary here (pod XCom).")
    ] = None,
) -> None:
    """Run the step and print its summary as one JSON line."""
    from quantdesk.data.atomic_files import write_file_atomic
    from quantdesk.domain.errors import InvalidInputError
    from quantdesk.orchestration.step_runner import run_step

    params: dict[str, str] = {}
    for item in param or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInputError(f"--param must be key=value, got {item!r}")
        params[key] = value
    summary = json.dumps(run_step(target, params, current_settings()), sort_keys=True)
    if xcom_file is not None:
        write_file_atomic(xcom_file, lambda handle: handle.write(summary.encode()))
    typer.echo(summary)
