"""``quantdesk features materialize``: apply the Feast repo and fill the online store.

Mounted by ``commands/features.py`` with ``feature_materialize.register(app)``, so the
``features`` command group keeps one owner per command.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from quantdesk.commands.context import current_settings
from quantdesk.domain.errors import InvalidInputError


def register(app: typer.Typer) -> None:
    """Add ``materialize`` to ``app`` (the ``quantdesk features`` group)."""
    app.command("materialize")(materialize)


def materialize(
    end: Annotated[
        str | None,
        typer.Option(help="Materialize up to this UTC time (ISO 8601, e.g. 2026-01-31T00:00Z)."),
    ] = None,
) -> None:
    """Apply feature_repo, then write the latest value per symbol known at END (default now)."""
    from quantdesk.pipelines.materialize_features import materialize_features

    summary = materialize_features(current_settings(), _parse_end(end))
    typer.echo(
        f"materialized {len(summary.feature_views)} views into {summary.online_store} "
        f"(project {summary.project}): {summary.rows_in_window} offline rows, "
        f"{len(summary.symbols)} symbols, {summary.start.isoformat()} .. "
        f"{summary.end.isoformat()} in {summary.seconds:.1f} s"
    )


def _parse_end(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(f"--end {value!r} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise InvalidInputError(f"--end {value!r} needs a time zone, e.g. {value}+00:00")
    return parsed
