"""Run the store's Alembic migrations from code: no ``alembic.ini`` is needed at run time.

The scripts ship inside the package (``quantdesk/store/migrations``), so an installed
quantdesk can create or upgrade its own database with ``quantdesk db upgrade``.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from quantdesk.domain.errors import StorageError
from quantdesk.store.database_engine import create_store_engine, write_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(
    connection: Connection | None = None, *, url: str | None = None, schema: str | None = None
) -> Config:
    """An Alembic ``Config`` built in code; ``env.py`` reads ``connection`` and ``schema``.

    Developers can pass it to ``alembic.command.revision(..., autogenerate=True)`` too.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # configparser escape
    config.attributes["connection"] = connection
    config.attributes["schema"] = schema
    return config


def head_revision() -> str:
    """The newest revision shipped with this version of quantdesk."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise StorageError(f"no migrations found under {MIGRATIONS_DIR}")
    return head


def upgrade_engine(engine: Engine, revision: str = "head", *, schema: str | None = None) -> str:
    """Upgrade the database behind ``engine`` in one transaction; return the new revision."""
    with write_engine(engine).begin() as connection:
        command.upgrade(alembic_config(connection, schema=schema), revision)
    return _require_revision(_current_revision_of(engine, schema))


def downgrade_engine(engine: Engine, revision: str, *, schema: str | None = None) -> str | None:
    """Downgrade to ``revision`` (``"base"`` drops every table); return the revision now current."""
    with write_engine(engine).begin() as connection:
        command.downgrade(alembic_config(connection, schema=schema), revision)
    return _current_revision_of(engine, schema)


def upgrade(url: str, revision: str = "head", *, schema: str | None = None) -> str:
    """Create or upgrade the store at ``url`` (idempotent); return the revision now current."""
    engine = create_store_engine(url, schema=schema)
    try:
        return upgrade_engine(engine, revision, schema=schema)
    finally:
        engine.dispose()


def downgrade(url: str, revision: str, *, schema: str | None = None) -> str | None:
    """Downgrade the store at ``url``; ``None`` means no revision is applied any more."""
    engine = create_store_engine(url, schema=schema)
    try:
        return downgrade_engine(engine, revision, schema=schema)
    finally:
        engine.dispose()


def current_revision(url: str, *, schema: str | None = None) -> str | None:
    """The revision the database at ``url`` is at; ``None`` for a database never migrated."""
    engine = create_store_engine(url, schema=schema)
    try:
        return _current_revision_of(engine, schema)
    finally:
        engine.dispose()


def _current_revision_of(engine: Engine, schema: str | None) -> str | None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"version_table_schema": schema} if schema else {}
        )
        return context.get_current_revision()


def _require_revision(revision: str | None) -> str:
    if revision is None:
        raise StorageError("the database has no revision after upgrading")
    return revision
