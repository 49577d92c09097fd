"""Migrations: empty to head, idempotent, matching the models, reversible, schema-aware."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from quantdesk.store import OperationalStore, current_revision, downgrade, head_revision, upgrade
from quantdesk.store.tables import Base
from tests.unit.store.store_test_data import Backend

STORE_TABLES = {"signals", "decisions", "orders", "audit_events", "api_usage"}


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_current_revision_of_empty_database_is_none(backend: Backend) -> None:
    assert current_revision(backend.url) is None


def test_upgrade_from_empty_reaches_head_and_creates_every_table(backend: Backend) -> None:
    # Act
    reached = upgrade(backend.url)

    # Assert
    assert reached == head_revision() == "0001"
    assert current_revision(backend.url) == head_revision()
    assert _tables(backend.url) >= STORE_TABLES


def test_upgrade_run_twice_is_idempotent(backend: Backend) -> None:
    first = upgrade(backend.url)

    second = upgrade(backend.url)

    assert first == second == current_revision(backend.url)


def test_migrated_schema_matches_models_without_differences(backend: Backend) -> None:
    # Arrange
    upgrade(backend.url)
    engine = create_engine(backend.url)

    # Act
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()

    # Assert: the hand-written revision builds exactly what the ORM models declare.
    assert differences == []


def test_downgrade_to_base_removes_every_table(backend: Backend) -> None:
    upgrade(backend.url)

    revision = downgrade(backend.url, "base")

    assert revision is None
    assert not STORE_TABLES & _tables(backend.url)


def test_store_upgrade_on_open_store_returns_head(backend: Backend) -> None:
    with OperationalStore(backend.url) as store:
        assert store.upgrade() == head_revision()
        assert store.upgrade() == head_revision()


@pytest.mark.postgres
def test_upgrade_with_schema_creates_schema_and_tables_inside_it(postgres_url: str) -> None:
    # Arrange: a schema that does not exist yet; upgrade must create it and stay inside it.
    schema = f"qd_{uuid.uuid4().hex[:16]}"
    engine = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        # Act
        reached = upgrade(postgres_url, schema=schema)

        # Assert
        assert reached == head_revision()
        assert current_revision(postgres_url, schema=schema) == head_revision()
        assert STORE_TABLES | {"alembic_version"} == set(
            inspect(engine).get_table_names(schema=schema)
        )
    finally:
        with engine.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()
