"""``quantdesk backup ...``: snapshot, list, verify, restore and prune the platform's state."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from quantdesk.commands.context import current_settings

app = typer.Typer(help="Backups of everything under QUANTDESK_HOME (lake, stores, models).")

DestinationOption = Annotated[
    str | None,
    typer.Option("--to", help="Folder or fsspec URL; default: <home>/backups."),
]


def _destination(value: str | None) -> str | Path:
    return value if value else current_settings().backups_dir


@app.command("create")
def create(
    to: DestinationOption = None,
    keep: Annotated[
        int | None,
        typer.Option(
            min=1, help="Then keep only the newest N (default QUANTDESK_RETENTION__BACKUPS_KEEP)."
        ),
    ] = None,
) -> None:
    """Write one archive with a SHA-256 manifest, then prune old ones."""
    from quantdesk.data.backup import create_backup, prune_backups

    settings = current_settings()
    info = create_backup(settings, to)
    typer.echo(f"created {info.location} ({info.files} files, {info.size_bytes} bytes)")
    pruned = prune_backups(_destination(to), keep or settings.retention.backups_keep)
    for old in pruned:
        typer.echo(f"pruned {old.location}")


@app.command("list")
def list_(to: DestinationOption = None) -> None:
    """Complete archives, newest first: location, creation time (UTC), size."""
    from quantdesk.data.backup import list_backups

    backups = list_backups(_destination(to))
    if not backups:
        typer.echo(f"no backups in {_destination(to)}")
        return
    for b in backups:  # one plain line each, so scripts can read it
        typer.echo(f"{b.location}\t{b.created_at.isoformat()}\t{b.size_bytes} bytes")


@app.command("verify")
def verify(location: Annotated[str, typer.Argument(help="Archive path or URL.")]) -> None:
    """Re-hash every file against the manifest; exit 1 and list the problems if any."""
    from quantdesk.data.backup import verify_backup

    report = verify_backup(location)
    if report.ok:
        typer.echo(f"ok: {report.files_checked} files match the manifest of {location}")
        return
    for problem in report.problems:
        typer.echo(f"problem: {problem}", err=True)
    raise typer.Exit(1)


@app.command("restore")
def restore(
    location: Annotated[str, typer.Argument(help="Archive path or URL.")],
    into: Annotated[Path | None, typer.Option(help="Target home; default QUANTDESK_HOME.")] = None,
    force: Annotated[
        bool, typer.Option(help="Replace a non-empty target (its backups folder is kept).")
    ] = False,
) -> None:
    """Restore an archive; nothing changes unless every file matches its checksum."""
    from quantdesk.data.backup import restore_backup

    target = into if into is not None else current_settings().home
    report = restore_backup(location, target, force=force)
    typer.echo(f"restored {report.files} files ({report.bytes} bytes) into {report.target_home}")


@app.command("prune")
def prune(
    keep: Annotated[int, typer.Option(min=1, help="How many of the newest to keep.")],
    to: DestinationOption = None,
) -> None:
    """Delete all but the newest N archives."""
    from quantdesk.data.backup import prune_backups

    for old in prune_backups(_destination(to), keep):
        typer.echo(f"pruned {old.location}")
