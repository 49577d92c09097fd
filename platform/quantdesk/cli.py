"""The ``quantdesk`` command line: run any batch step by hand, the same way the DAGs do.

Heavy libraries are imported inside commands so ``quantdesk --help`` starts fast.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.table import Table

import quantdesk
from quantdesk.commands import backtest as backtest_commands
from quantdesk.commands import backup as backup_commands
from quantdesk.commands import compliance as compliance_commands
from quantdesk.commands import data as data_commands
from quantdesk.commands import decide as decide_commands
from quantdesk.commands import features as features_commands
from quantdesk.commands import models as models_commands
from quantdesk.commands import pipeline as pipeline_commands
from quantdesk.commands import portfolio as portfolio_commands
from quantdesk.commands import risk as risk_commands
from quantdesk.commands import rl as rl_commands
from quantdesk.commands import steps as step_commands
from quantdesk.commands.context import console, current_settings, state
from quantdesk.commands.ingest import ingest
from quantdesk.config import load_settings
from quantdesk.domain.errors import ConfigurationError, InvalidInputError, QuantdeskError
from quantdesk.structured_logging import configure_logging, get_logger

app = typer.Typer(
    name="quantdesk",
    help="quantdesk: market data, features, models, backtests and risk-checked decisions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Operational database (signals, decisions, orders, audit, usage).")
app.add_typer(db_app, name="db")
app.add_typer(data_commands.app, name="data")
app.add_typer(backup_commands.app, name="backup")
app.add_typer(backtest_commands.app, name="backtest")
app.add_typer(features_commands.app, name="features")
app.add_typer(models_commands.train_app, name="train")
app.add_typer(models_commands.tune_app, name="tune")
app.add_typer(models_commands.models_app, name="models")
app.add_typer(rl_commands.app, name="rl")
rl_commands.register(models_commands.train_app, models_commands.tune_app)
app.add_typer(risk_commands.app, name="risk")
app.add_typer(portfolio_commands.app, name="portfolio")
app.command()(ingest)
app.add_typer(compliance_commands.app, name="compliance")
app.add_typer(step_commands.app, name="step")
app.add_typer(pipeline_commands.app, name="pipeline")
app.add_typer(decide_commands.app, name="decide")

log = get_logger("quantdesk.cli")


@app.callback()
def _main(
    log_level: Annotated[
        str | None, typer.Option(help="Override QUANTDESK_LOG_LEVEL for this run.")
    ] = None,
) -> None:
    overrides: dict[str, Any] = {"log_level": log_level.upper()} if log_level else {}
    settings = load_settings(**overrides)
    state.settings = settings
    configure_logging(settings.log_level, settings.log_format)


@app.command()
def info(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Version, settings (secrets masked), paths, and which services answer."""
    from quantdesk.health import check_all

    settings = current_settings()
    services = check_all(settings)
    report: dict[str, Any] = {
        "version": quantdesk.__version__,
        "python": sys.version.split()[0],
        "settings": settings.redacted(),
        "paths": {name: str(path) for name, path in settings.paths().items()},
        "services": [
            {"name": s.name, "target": s.target, "ok": s.ok, "detail": s.detail} for s in services
        ],
    }
    if as_json:
        typer.echo(json.dumps(report, indent=2, default=str))
        return
    console.print(f"[bold]quantdesk {report['version']}[/bold] (Python {report['python']})")
    paths = Table(title="Paths", show_header=False)
    for name, path in report["paths"].items():
        paths.add_row(name, path)
    console.print(paths)
    table = Table(title="Settings (secrets masked)", show_header=False)
    for key, value in _flatten(report["settings"]).items():
        table.add_row(key, "-" if value is None else str(value))
    console.print(table)
    svc = Table(title="Services")
    for column in ("service", "target", "answers", "detail"):
        svc.add_column(column)
    for s in services:
        svc.add_row(s.name, s.target, "yes" if s.ok else "NO", s.detail)
    console.print(svc)


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target Alembic revision.")] = "head",
) -> None:
    """Apply the operational database migrations (idempotent)."""
    from quantdesk.store.migrations_runner import upgrade

    settings = current_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    current = upgrade(settings.resolved_database_url, revision)
    log.info("db.upgraded", revision=current)
    typer.echo(f"database at revision {current}")


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def main() -> None:
    """Entry point: our errors become one clear line and an exit code, not a traceback.

    Usage errors (unknown command or option) are typer's own and exit with code 2.
    """
    try:
        app()
    except (ConfigurationError, InvalidInputError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None
    except QuantdeskError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
