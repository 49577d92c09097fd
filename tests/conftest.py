"""Fixtures shared by every test suite: real external services, found through the environment.

A test that needs PostgreSQL or Redis asks for ``postgres_url`` / ``redis_url``. Locally a
missing service skips the test; under ``CI=true`` it fails it, so CI can never go green by
silently skipping the tests that need a real server.
"""

from __future__ import annotations

import os

import pytest

POSTGRES_URL_ENV = "QUANTDESK_TEST_POSTGRES_URL"
REDIS_URL_ENV = "QUANTDESK_TEST_REDIS_URL"


def running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def require_service(env_var: str, what: str) -> str:
    """The service URL from ``env_var``; skip (locally) or fail (``CI=true``) when unset."""
    value = os.environ.get(env_var, "").strip()
    if value:
        return value
    message = f"{env_var} is not set: {what}"
    if running_in_ci():
        pytest.fail(f"{message} (CI=true: a missing service fails the run)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """SQLAlchemy URL of a real PostgreSQL server, e.g. postgresql+psycopg://...:5432/test."""
    return require_service(POSTGRES_URL_ENV, "PostgreSQL store tests need a real server")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of a real Redis server, e.g. redis://127.0.0.1:6379/15."""
    return require_service(REDIS_URL_ENV, "Redis tests need a real server")
