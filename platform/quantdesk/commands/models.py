"""``quantdesk train hybrid``, ``quantdesk tune hybrid`` and ``quantdesk models ...``.

Torch, MLflow and Ray are imported inside the commands, so ``--help`` stays fast.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from quantdesk.commands.context import console, current_settings
from quantdesk.config import Settings
from quantdesk.domain import InvalidInputError

if TYPE_CHECKING:
    from quantdesk.store.operational_store import OperationalStore

train_app = typer.Typer(help="Train models on purged walk-forward folds.", no_args_is_help=True)
tune_app = typer.Typer(help="Hyper-parameter sweeps (Ray Tune, ASHA).", no_args_is_help=True)
models_app = typer.Typer(
    help="Registered models: list, show, promote, roll back.", no_args_is_help=True
)

SOURCES = ("auto", "offline", "lake")


def _time(text: str, option: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInputError(f"{option}: {text!r} is not an ISO date or date-time") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _symbols(text: str | None) -> tuple[str, ...] | None:
    return tuple(s.strip() for s in text.split(",") if s.strip()) if text else None


def _source(text: str) -> Any:
    if text not in SOURCES:
        raise InvalidInputError(f"--source must be one of {', '.join(SOURCES)}, got {text!r}")
    return text


StartOption = Annotated[str, typer.Option(help="First bar open time (ISO, UTC).")]
EndOption = Annotated[str, typer.Option(help="Bars opening before this (ISO, UTC).")]
SymbolsOption = Annotated[
    str | None, typer.Option(help="Comma-separated symbols (default: the universe).")
]
SourceOption = Annotated[
    str, typer.Option(help="Features from the offline store, the lake, or auto (store first).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


@train_app.command("hybrid")
def train_hybrid_command(
    start: StartOption,
    end: EndOption,
    symbols: SymbolsOption = None,
    source: SourceOption = "auto",
    promote: Annotated[bool, typer.Option(help="Run the promotion gate afterwards.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Train the CNN+LSTM hybrid and the baselines, log to MLflow, register a challenger."""
    from quantdesk.pipelines.train_hybrid import train_hybrid

    summary = train_hybrid(
        current_settings(),
        _time(start, "--start"),
        _time(end, "--end"),
        symbols=_symbols(symbols),
        source=_source(source),
        promote=promote,
    )
    if as_json:
        typer.echo(json.dumps(asdict(summary), default=str))
        return
    reused = " (reused: same data and configuration)" if summary.reused else ""
    console.print(
        f"version {summary.version}{reused}, run {summary.run_id}, "
        f"{summary.samples} samples, {summary.folds} folds, features: {summary.source}"
    )
    table = Table(title="Out of sample (pooled test windows)")
    for column in ("model", "IC", "rank IC", "dir. acc.", "ECE", "Sharpe after costs"):
        table.add_column(column)
    table.add_row(
        "hybrid",
        f"{summary.oos_ic:.4f}",
        f"{summary.oos_rank_ic:.4f}",
        f"{summary.oos_directional_accuracy:.3f}",
        f"{summary.oos_ece:.3f}",
        f"{summary.oos_sharpe_after_costs:.2f}",
    )
    for name, ic in summary.baseline_ic.items():
        table.add_row(name, f"{ic:.4f}", "", "", "", "")
    console.print(table)
    if summary.promoted is not None:
        verdict = "promoted to champion" if summary.promoted else "NOT promoted"
        console.print(f"gate: {verdict}")
        for reason in summary.reasons:
            console.print(f"  - {reason}")


@tune_app.command("hybrid")
def tune_hybrid_command(
    start: StartOption,
    end: EndOption,
    trials: Annotated[int, typer.Option(min=1, help="Number of trials.")] = 8,
    symbols: SymbolsOption = None,
    source: SourceOption = "auto",
) -> None:
    """Sweep architecture, window and learning rate on walk-forward validation (ASHA)."""
    from quantdesk.pipelines.train_hybrid import tune_hybrid

    summary = tune_hybrid(
        current_settings(),
        _time(start, "--start"),
        _time(end, "--end"),
        trials=trials,
        symbols=_symbols(symbols),
        source=_source(source),
    )
    console.print(
        f"{summary.trials} trials ({summary.completed} completed), "
        f"best validation score {summary.best_score:.4f}; run {summary.run_id}"
    )
    console.print(json.dumps(summary.best_config, indent=2, sort_keys=True))


@models_app.command("list")
def list_models(
    name: Annotated[str | None, typer.Option(help="Registered model name.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Every version with its aliases and out-of-sample fold scores."""
    from quantdesk.models.registry import ModelRegistry

    settings = current_settings()
    chosen = name or settings.models.registered_name
    versions = ModelRegistry(settings).versions(chosen)
    rows = [
        {
            "version": v.version,
            "aliases": list(v.aliases),
            "created_at": v.created_at.isoformat(),
            "metric": v.scores.metric if v.scores else None,
            "mean_score": v.scores.mean if v.scores else None,
            "ece": v.scores.ece if v.scores else None,
            "rolled_back": v.tags.get("quantdesk.rolled_back") == "true",
        }
        for v in versions
    ]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    table = Table(title=f"{chosen}: {len(rows)} version(s)")
    for column in ("version", "aliases", "created", "score", "ECE", "rolled back"):
        table.add_column(column)
    for row in rows:
        score = "-" if row["mean_score"] is None else f"{row['metric']} {row['mean_score']:.4f}"
        ece = "-" if row["ece"] is None else f"{row['ece']:.4f}"
        aliases = row["aliases"]
        table.add_row(
            str(row["version"]),
            ",".join(aliases) if isinstance(aliases, list) else "",
            str(row["created_at"])[:19],
            score,
            ece,
            "yes" if row["rolled_back"] else "",
        )
    console.print(table)


@models_app.command("show")
def show_model(
    alias: Annotated[str, typer.Argument(help="Alias (champion, challenger) or version number.")],
    name: Annotated[str | None, typer.Option(help="Registered model name.")] = None,
) -> None:
    """One version: aliases, scores and tags."""
    from quantdesk.models.registry import ModelRegistry

    settings = current_settings()
    chosen = name or settings.models.registered_name
    registry = ModelRegistry(settings)
    info = (
        registry.version(chosen, int(alias))
        if alias.isdigit()
        else registry.by_alias(chosen, alias)
    )
    document = {
        "name": info.name,
        "version": info.version,
        "aliases": list(info.aliases),
        "run_id": info.run_id,
        "created_at": info.created_at.isoformat(),
        "scores": None
        if info.scores is None
        else {
            "metric": info.scores.metric,
            "fold_scores": list(info.scores.fold_scores),
            "mean": info.scores.mean,
            "ece": info.scores.ece,
            "folds_key": info.scores.folds_key,
        },
        "tags": dict(info.tags),
    }
    typer.echo(json.dumps(document, indent=2))


@models_app.command("promote")
def promote_model(
    version: Annotated[
        int | None, typer.Option(help="Version to promote (default: challenger).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Registered model name.")] = None,
    actor: Annotated[str, typer.Option(help="Who asks (recorded in the audit log).")] = "cli",
) -> None:
    """Run the promotion gate; exit code 1 when it refuses (reasons are printed and audited)."""
    from quantdesk.models.promotion_gate import GateCriteria
    from quantdesk.models.registry import ModelRegistry

    settings = current_settings()
    m = settings.models
    registry = ModelRegistry(settings, _audit_store(settings), actor)
    decision = registry.promote(
        name or m.registered_name,
        GateCriteria("ic", m.promotion_margin, m.max_ece, floor=m.promotion_floor_ic),
        version,
    )
    console.print("promoted to champion" if decision.promote else "refused")
    for reason in decision.reasons:
        console.print(f"  - {reason}")
    if not decision.promote:
        raise typer.Exit(1)


@models_app.command("rollback")
def rollback_model(
    reason: Annotated[str, typer.Option(help="Why (recorded in the audit log).")] = "",
    name: Annotated[str | None, typer.Option(help="Registered model name.")] = None,
    actor: Annotated[str, typer.Option(help="Who asks (recorded in the audit log).")] = "cli",
) -> None:
    """Restore the previous champion."""
    from quantdesk.models.registry import ModelRegistry

    settings = current_settings()
    registry = ModelRegistry(settings, _audit_store(settings), actor)
    restored = registry.rollback(name or settings.models.registered_name, reason)
    console.print(f"champion is version {restored} again")


def _audit_store(settings: Settings) -> OperationalStore:
    """The operational store (migrated: upgrading is idempotent) that records gate decisions."""
    from quantdesk.store.operational_store import OperationalStore

    store = OperationalStore.from_settings(settings)
    store.upgrade()
    return store
