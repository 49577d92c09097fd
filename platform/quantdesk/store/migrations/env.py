"""Alembic environment of the operational store, configured from code (no alembic.ini).

``quantdesk.store.migrations_runner`` passes an open ``connection`` and an optional PostgreSQL
``schema`` in ``config.attributes``; the Alembic CLI can pass ``-x schema=...`` and a
``sqlalchemy.url`` instead. With a schema, it is created if missing, put first on the
``search_path`` for the migration's transaction, and holds the ``alembic_version`` table.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

from quantdesk.store.database_engine import (
    create_store_engine,
    validate_schema_name,
    write_engine,
)
from quantdesk.store.tables import Base

config = context.config
target_metadata = Base.metadata


def _schema() -> str | None:
    schema = config.attributes.get("schema") or context.get_x_argument(as_dictionary=True).get(
        "schema"
    )
    return validate_schema_name(schema) if schema else None


def _configure(connection: Connection, schema: str | None) -> None:
    is_postgres = connection.dialect.name == "postgresql"
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table_schema=schema if is_postgres else None,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
        compare_type=True,
    )


def _run_on(connection: Connection) -> None:
    schema = _schema()
    _configure(connection, schema)
    with context.begin_transaction():
        if schema and connection.dialect.name == "postgresql":
            quoted = connection.dialect.identifier_preparer.quote_schema(schema)
            connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {quoted}"))
            connection.execute(text("SELECT set_config('search_path', :s, true)"), {"s": schema})
        context.run_migrations()


def run_migrations_offline() -> None:
    """Emit SQL to stdout (``alembic upgrade --sql``) for a DBA to review."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        version_table_schema=_schema(),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection: Connection | None = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)  # the caller owns the connection and its transaction
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("pass a connection in config.attributes or set sqlalchemy.url")
    engine = create_store_engine(url, schema=_schema())
    try:
        with write_engine(engine).connect() as own_connection:
            _run_on(own_connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
