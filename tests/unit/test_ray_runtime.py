"""Local Ray clusters get one auth token per process, never the shared ~/.ray file's."""

from __future__ import annotations

import os

import pytest

from quantdesk.ray_runtime import AUTH_TOKEN_ENV, local_auth_token


def test_local_auth_token_is_set_in_the_environment_and_stable_for_the_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(AUTH_TOKEN_ENV, raising=False)

    first = local_auth_token()
    monkeypatch.delenv(AUTH_TOKEN_ENV)  # e.g. a test that set and removed it
    second = local_auth_token()

    assert first == second == os.environ[AUTH_TOKEN_ENV]
    assert len(first) == 64


def test_local_auth_token_keeps_a_token_the_operator_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(AUTH_TOKEN_ENV, "operator-token")

    assert local_auth_token() == "operator-token"
