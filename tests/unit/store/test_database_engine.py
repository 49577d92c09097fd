"""Engine settings the store relies on: SQLite pragmas and folder, safe schema names."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from quantdesk.domain.errors import InvalidInputError
from quantdesk.store.database_engine import create_store_engine, validate_schema_name


def test_sqlite_engine_missing_parent_folder_is_created(tmp_path: Path) -> None:
    database = tmp_path / "a" / "b" / "quantdesk.db"

    engine = create_store_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    finally:
        engine.dispose()

    assert database.is_file()


def test_sqlite_engine_connection_enforces_foreign_keys_and_uses_wal(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'q.db'}")

    try:
        with engine.connect() as connection:
            foreign_keys = connection.execute(text("PRAGMA foreign_keys")).scalar_one()
            journal_mode = connection.execute(text("PRAGMA journal_mode")).scalar_one()
    finally:
        engine.dispose()

    assert foreign_keys == 1
    assert journal_mode == "wal"


@pytest.mark.parametrize("name", ["qd_abc123", "_private", "quantdesk"])
def test_validate_schema_name_plain_identifier_is_accepted(name: str) -> None:
    assert validate_schema_name(name) == name


@pytest.mark.parametrize("name", ["", "Upper", "x; DROP TABLE orders", 'q"d', "1abc", "a" * 64])
def test_validate_schema_name_unsafe_name_is_rejected(name: str) -> None:
    with pytest.raises(InvalidInputError):
        validate_schema_name(name)


def test_create_store_engine_schema_on_sqlite_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="PostgreSQL"):
        create_store_engine(f"sqlite:///{tmp_path / 'q.db'}", schema="qd_x")
