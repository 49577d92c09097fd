"""``quantdesk features ...``: build causal features from the lake into the offline store."""

from __future__ import annotations

from typing import Annotated

import typer

from quantdesk.commands import feature_materialize
from quantdesk.commands.context import current_settings
from quantdesk.commands.options import parse_optional_utc, split_symbols

app = typer.Typer(help="Causal features of daily bars and the offline feature store.")


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

    chosen = split_symbols(symbols)
    summary = build_features(
        current_settings(),
        symbols=chosen,
        start=parse_optional_utc(start, "--start"),
        end=parse_optional_utc(end, "--end"),
        as_of=parse_optional_utc(as_of, "--as-of"),
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
