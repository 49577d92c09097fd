"""The rule for tests that need a real service: skip locally, fail under CI=true."""

from __future__ import annotations

import pytest

from tests.conftest import require_service


def test_require_service_set_variable_returns_its_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QD_TEST_SERVICE_URL", "postgresql+psycopg://h/db")

    assert require_service("QD_TEST_SERVICE_URL", "tests need it") == "postgresql+psycopg://h/db"


def test_require_service_unset_outside_ci_skips_naming_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("QD_TEST_SERVICE_URL", raising=False)
    monkeypatch.delenv("CI", raising=False)

    with pytest.raises(pytest.skip.Exception, match="QD_TEST_SERVICE_URL is not set: x need"):
        require_service("QD_TEST_SERVICE_URL", "x need")


def test_require_service_unset_under_ci_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QD_TEST_SERVICE_URL", raising=False)
    monkeypatch.setenv("CI", "true")

    with pytest.raises(pytest.fail.Exception, match="QD_TEST_SERVICE_URL is not set"):
        require_service("QD_TEST_SERVICE_URL", "x need")


def test_require_service_blank_value_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QD_TEST_SERVICE_URL", "  ")
    monkeypatch.setenv("CI", "true")

    with pytest.raises(pytest.fail.Exception):
        require_service("QD_TEST_SERVICE_URL", "x need")
