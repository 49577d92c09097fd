"""``quantdesk rl ...``: train the RL ensemble, tune an agent, promote the challenger.

The same commands are also mounted as ``quantdesk train rl`` and ``quantdesk tune rl`` by
:func:`register`, beside the hybrid's ``train hybrid`` / ``tune hybrid``.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Annotated, Literal

import typer
from rich.table import Table

from quantdesk.commands.context import console, current_settings
from quantdesk.domain import InvalidInputError

app = typer.Typer(help="Reinforcement learning: walk-forward ensemble, tuning, promotion.")

_Source = Annotated[
    str, typer.Option(help="lake (clean bars + features) or synthetic (planted-signal demo).")
]
_Start = Annotated[
    str | None, typer.Option(help="First bar (ISO date, UTC; default: the embedded window).")
]
_End = Annotated[
    str | None, typer.Option(help="Bars before this (ISO date, UTC; default: embedded window).")
]


def _time(text: str, option: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInputError(f"{option}: {text!r} is not an ISO date or date-time") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _window(start: str | None, end: str | None) -> tuple[datetime, datetime]:
    """The options as UTC times; a missing one is the embedded data window's bound."""
    embedded = current_settings().embedded
    first = datetime.combine(embedded.start, time(), tzinfo=UTC)
    last = datetime.combine(embedded.end, time(), tzinfo=UTC)
    return (
        _time(start, "--start") if start is not None else first,
        _time(end, "--end") if end is not None else last,
    )


def _source(text: str) -> Literal["lake", "synthetic"]:
    if text == "lake":
        return "lake"
    if text == "synthetic":
        return "synthetic"
    raise InvalidInputError(f"--source must be lake or synthetic, got {text!r}")


def _ints(text: str | None, option: str) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise InvalidInputError(f"{option}: expected comma-separated integers") from None


def _symbols(text: str | None) -> tuple[str, ...] | None:
    return tuple(s.strip() for s in text.split(",") if s.strip()) if text else None


@app.command("train")
def train(
    agents: Annotated[
        str | None, typer.Option(help="Comma-separated: ppo,a2c,sac,td3,ddpg.")
    ] = None,
    start: _Start = None,
    end: _End = None,
    seeds: Annotated[str | None, typer.Option(help="Comma-separated seeds.")] = None,
    timesteps: Annotated[int | None, typer.Option(min=1, help="Steps per agent and fold.")] = None,
    source: _Source = "lake",
    signal_strength: Annotated[float, typer.Option(help="Planted signal (synthetic).")] = 0.3,
    symbols: Annotated[str | None, typer.Option(help="Comma-separated symbols.")] = None,
    register: Annotated[bool, typer.Option(help="Register as the challenger.")] = True,
) -> None:
    """Train every agent on rolling windows; trade with the best / the Sharpe-weighted blend."""
    from quantdesk.pipelines.train_rl import train_rl
    from quantdesk.rl.agents import parse_agents

    summary = train_rl(
        current_settings(),
        *_window(start, end),
        agents=parse_agents(agents) if agents else None,
        seeds=_ints(seeds, "--seeds"),
        timesteps=timesteps,
        source=_source(source),
        signal_strength=signal_strength,
        symbols=_symbols(symbols),
        register=register,
    )
    table = Table(title=f"Out of sample over seeds {list(summary.seeds)} ({summary.rows} bars)")
    for column in ("strategy", "Sharpe", "total return"):
        table.add_column(column)
    for name, (mean, std) in summary.sharpe.items():
        ret_mean, ret_std = summary.total_return[name]
        table.add_row(name, f"{mean:+.2f} ± {std:.2f}", f"{ret_mean:+.1%} ± {ret_std:.1%}")
    console.print(table)
    weights = ", ".join(f"{k} {v:.2f}" for k, v in summary.blend_weights.items())
    typer.echo(f"last fold: best {summary.selected}; blend {weights}")
    if summary.model_version is not None:
        typer.echo(f"registered as challenger: version {summary.model_version}")
    typer.echo(f"report: {summary.report_path}")


@app.command("tune")
def tune(
    agent: Annotated[
        str | None, typer.Option(help="Agent to tune (default: rl.tune_agent).")
    ] = None,
    samples: Annotated[int | None, typer.Option(min=1, help="Trials.")] = None,
    timesteps: Annotated[int | None, typer.Option(min=1, help="Steps per trial.")] = None,
    start: _Start = None,
    end: _End = None,
    source: _Source = "lake",
    signal_strength: Annotated[float, typer.Option(help="Planted signal (synthetic).")] = 0.3,
    symbols: Annotated[str | None, typer.Option(help="Comma-separated symbols.")] = None,
) -> None:
    """Ray Tune search (parallel trials) scored on the validation window."""
    from quantdesk.pipelines.train_rl import tune_rl

    summary = tune_rl(
        current_settings(),
        *_window(start, end),
        agent=agent,
        samples=samples,
        timesteps=timesteps,
        source=_source(source),
        signal_strength=signal_strength,
        symbols=_symbols(symbols),
    )
    typer.echo(
        f"{summary.agent}: best validation Sharpe {summary.best_sharpe:+.2f} of "
        f"{summary.trials} trials with {summary.best_config}"
    )
    typer.echo(f"report: {summary.report_path}")


@app.command("promote")
def promote() -> None:
    """Make the challenger ensemble the champion if it passes the shared promotion gate."""
    from quantdesk.pipelines.train_rl import promote_rl

    summary = promote_rl(current_settings())
    typer.echo("promoted" if summary.promoted else "kept the champion")
    for reason in summary.reasons:
        typer.echo(f"  {reason}")


def register(train_app: typer.Typer, tune_app: typer.Typer) -> None:
    """Also offer ``quantdesk train rl`` and ``quantdesk tune rl`` beside ``... hybrid``."""
    train_app.command("rl")(train)
    tune_app.command("rl")(tune)
