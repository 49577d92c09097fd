"""Engines for the operational store, with the per-backend settings it relies on.

SQLite: the parent folder is created, foreign keys are enforced, WAL lets readers run beside
the writer, and SQLAlchemy (not the sqlite3 module) emits ``BEGIN`` so write transactions can
take the write lock up front with ``BEGIN IMMEDIATE``; that is what serialises audit appends
and avoids lock-upgrade deadlocks. PostgreSQL: an optional schema is put first on the
``search_path`` (tests use one fresh schema each).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.pool import ConnectionPoolEntry

from quantdesk.domain.errors import InvalidInputError

# Execution option read by the "begin" hook: True makes SQLite take the write lock at BEGIN.
SQLITE_BEGIN_IMMEDIATE = "quantdesk_sqlite_begin_immediate"
SQLITE_BUSY_TIMEOUT_S = 30.0

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def validate_schema_name(schema: str) -> str:
    """Accept only plain lower-case identifiers, so a schema name can never inject SQL."""
    if not _SCHEMA_NAME.match(schema):
        raise InvalidInputError(f"schema {schema!r} must match {_SCHEMA_NAME.pattern}")
    return schema


def create_store_engine(url: str | URL, *, schema: str | None = None, echo: bool = False) -> Engine:
    """An engine for ``url`` configured for the store; ``schema`` is PostgreSQL only."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    connect_args: dict[str, Any] = {}
    if backend == "sqlite":
        if schema is not None:
            raise InvalidInputError("a schema can only be given for PostgreSQL")
        _create_sqlite_parent_folder(parsed)
        connect_args["timeout"] = SQLITE_BUSY_TIMEOUT_S
        connect_args["check_same_thread"] = False
    elif schema is not None:
        if backend != "postgresql":
            raise InvalidInputError(f"a schema can only be given for PostgreSQL, not {backend}")
        connect_args["options"] = f"-csearch_path={validate_schema_name(schema)}"
    engine = create_engine(parsed, connect_args=connect_args, echo=echo)
    if backend == "sqlite":
        _install_sqlite_hooks(engine)
    return engine


def write_engine(engine: Engine) -> Engine:
    """The same pool, marked so SQLite write transactions begin with the write lock held."""
    return engine.execution_options(**{SQLITE_BEGIN_IMMEDIATE: True})


def _create_sqlite_parent_folder(url: URL) -> None:
    database = url.database
    if not database or database == ":memory:" or url.query.get("mode") == "memory":
        return
    if database.startswith("file:"):
        return  # a URI filename; its folder is the caller's business
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _install_sqlite_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy emit BEGIN itself (see the "begin" hook) instead of sqlite3.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(SQLITE_BEGIN_IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
