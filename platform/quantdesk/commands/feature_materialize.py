"""``quantdesk features materialize``: apply the Feast repo and fill the online store.

Mounted by ``commands/features.py`` with ``feature_materialize.register(app)``, so the
``features`` command group keeps one owner per command.
"""

from __future__ import annotations

from typing import Annotated

import typer

from quantdesk.commands.context import current_settings
from quantdesk.commands.options import parse_optional_utc


def register(app: typer.Typer) -> None:
    """Add ``materialize`` to ``app`` (the ``quantdesk features`` group)."""
    app.command("materialize")(materialize)


def materialize(
    end: Annotated[
        str | None,
        typer.Option(help="Materialize up to this time (ISO date or date-time, UTC if no zone)."),
    ] = None,
) -> None:
    """Apply feature_repo, then write the latest value per symbol known at END (default now)."""
    from quantdesk.pipelines.materialize_features import materialize_features

    summary = materialize_features(current_settings(), parse_optional_utc(end, "--end"))
    typer.echo(
        f"materialized {len(summary.feature_views)} views into {summary.online_store} "
        f"(project {summary.project}): {summary.rows_in_window} offline rows, "
        f"{len(summary.symbols)} symbols, {summary.start.isoformat()} .. "
        f"{summary.end.isoformat()} in {summary.seconds:.1f} s"
    )
