"""Every store test runs twice: on a fresh SQLite file and in a fresh PostgreSQL schema."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from quantdesk.store import OperationalStore
from tests.unit.store.store_test_data import Backend


def _fresh_postgres_schema(base_url: str) -> Iterator[Backend]:
    """A private schema per test, so tests run in parallel (xdist) on one database."""
    schema = f"qd_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield Backend("postgresql", url.render_as_string(hide_password=False), schema, base_url)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        # A folder that does not exist yet: the store must create it.
        yield Backend("sqlite", f"sqlite:///{tmp_path / 'state' / 'quantdesk.db'}")
        return
    yield from _fresh_postgres_schema(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(backend: Backend) -> Iterator[OperationalStore]:
    """A migrated, empty store on the test's backend."""
    with OperationalStore(backend.url) as opened:
        opened.upgrade()
        yield opened
