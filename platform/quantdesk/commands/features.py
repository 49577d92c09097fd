"""``quantdesk features ...``: build causal features from the lake into the offline store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from quantdesk.commands import feature_materialize
from quantdesk.commands.context import current_settings
from quantdesk.domain import InvalidInputError

app = typer.Typer(help="Causal features of daily bars and the offline feature store.")


def parse_time(text: str | None, option: str) -> datetime | None:
    """ISO date or date-time; a value without a time zone is read as UTC."""
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInputError(f"{option}: {text!r} is not an ISO date or date-time") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@app.command("build")
def build(
    symbols: Annotated[
        str | None, typer.Option(help="Comma-separated symbols (default: the universe).")
    ] = None,
    start: Annotated[str | None, typer.Option(help="First bar open time (ISO, UTC).")] = None,
    end: Annotated[str | None, typer.Option(help="Bars opening before this (ISO, UTC).")] = None,
    as_of: Annotated[
        str | None, typer.Option(help="Read the lake as known at this time (point in time).")
    ] = None,
) -> None:
    """Compute every feature of the daily bars and merge it into the offline store."""
    from quantdesk.pipelines.build_features import build_features

    chosen = [s.strip() for s in symbols.split(",") if s.strip()] if symbols else None
    summary = build_features(
        current_settings(),
        symbols=chosen,
        start=parse_time(start, "--start"),
        end=parse_time(end, "--end"),
        as_of=parse_time(as_of, "--as-of"),
    )
    typer.echo(
        f"{summary.rows} feature rows for {len(summary.symbols)} symbols "
        f"({summary.first_open_time} .. {summary.last_open_time}) from {summary.bars_read} bars"
    )
    if summary.missing:
        typer.echo(f"no bars for: {', '.join(summary.missing)}")
    if not summary.benchmark_found:
        typer.echo(f"benchmark {summary.benchmark_symbol} has no bars: cross-asset features empty")
    for view in summary.views:
        state = "written" if view.written else "unchanged"
        typer.echo(
            f"{view.view}: {view.rows} rows ({view.new} new, {view.replaced} replaced, "
            f"{view.unchanged} unchanged) {state} -> {view.path}"
        )


feature_materialize.register(app)
