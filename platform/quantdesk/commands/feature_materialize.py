"""``quantdesk features materialize``: apply the Feast repo and fill the online store.

Mounted by ``commands/features.py`` with ``feature_materialize.register(app)``, so the
``features`` command group keeps one owner per command.
"""

from __future__ import annotations

from datetime import UTC, datetime
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
        typer.Option(help="Materialize up to this time (ISO date or date-time, UTC if no zone)."),
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
    """ISO date or date-time; without a time zone it is UTC, as for ``features build``."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInputError(f"--end: {value!r} is not an ISO date or date-time") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
