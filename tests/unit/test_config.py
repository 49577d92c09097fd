"""Settings: defaults under home, env parsing, clear errors, and secrets that never leak."""

from __future__ import annotations

from pathlib import Path

import pytest

from quantdesk.config import DEFAULT_UNIVERSE, env_var_name, load_settings
from quantdesk.domain.errors import ConfigurationError


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Settings read the process environment and ./.env: isolate both."""
    import os

    for key in list(os.environ):
        if key.startswith("QUANTDESK_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


def test_defaults_put_every_path_under_home(tmp_path: Path) -> None:
    settings = load_settings()

    assert settings.home == (tmp_path / "var").resolve()
    assert settings.resolved_database_url == f"sqlite:///{settings.home / 'quantdesk.db'}"
    assert settings.resolved_mlflow_tracking_uri.startswith(f"sqlite:///{settings.home}")
    assert all(path.is_relative_to(settings.home) for path in settings.paths().values())
    assert settings.universe == DEFAULT_UNIVERSE
    assert settings.ray.address is None
    assert settings.redis_url is None


def test_nested_env_vars_set_nested_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUANTDESK_RAY__ADDRESS", "ray://head:10001")
    monkeypatch.setenv("QUANTDESK_RAY__NUM_CPUS", "4")
    monkeypatch.setenv("QUANTDESK_OANDA__ENVIRONMENT", "live")

    settings = load_settings()

    assert settings.ray.address == "ray://head:10001"
    assert settings.ray.num_cpus == 4
    assert settings.oanda.resolved_base_url == "https://api-fxtrade.oanda.com"


@pytest.mark.parametrize("raw", ["AAPL,BTC-USD, EUR-USD", '["AAPL","BTC-USD","EUR-USD"]'])
def test_universe_from_env_accepts_csv_and_json(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("QUANTDESK_UNIVERSE", raw)

    assert load_settings().universe == ("AAPL", "BTC-USD", "EUR-USD")


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("QUANTDESK_SEED=99\n")

    assert load_settings().seed == 99


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("QUANTDESK_RAY__NUM_CPUS", "zero"),
        ("QUANTDESK_UNIVERSE", "AAPL,btc usd"),
        ("QUANTDESK_LOG_LEVEL", "LOUD"),
        ("QUANTDESK_DATABASE_URL", "not a url"),
        ("QUANTDESK_OANDA__ENVIRONMENT", "sandbox"),
    ],
)
def test_invalid_value_fails_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(ConfigurationError) as excinfo:
        load_settings()

    assert variable in str(excinfo.value)


def test_secrets_never_appear_in_repr_or_redacted_dump(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUANTDESK_OANDA__TOKEN", "oanda-token-s3cr3t")
    monkeypatch.setenv("QUANTDESK_ROBINHOOD__PASSWORD", "rh-pass-s3cr3t")
    monkeypatch.setenv("QUANTDESK_COINBASE__API_SECRET", "cb-secret-s3cr3t")
    monkeypatch.setenv("QUANTDESK_DATABASE_URL", "postgresql+psycopg://app:db-s3cr3t@db:5432/q")

    settings = load_settings()
    texts = [repr(settings), str(settings), repr(settings.oanda), str(settings.redacted())]

    assert settings.oanda.token is not None
    assert settings.oanda.token.get_secret_value() == "oanda-token-s3cr3t"
    for text in texts:
        assert "s3cr3t" not in text
    assert "postgresql+psycopg://app:***@db:5432/q" in str(settings.redacted())


def test_invalid_secret_value_is_not_echoed_in_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUANTDESK_RAY__NUM_CPUS", "s3cr3t-like-value")

    with pytest.raises(ConfigurationError) as excinfo:
        load_settings()

    assert "s3cr3t" not in str(excinfo.value)


def test_env_var_name_joins_nested_location() -> None:
    assert env_var_name(("ray", "num_cpus")) == "QUANTDESK_RAY__NUM_CPUS"
    assert env_var_name(("universe", 1)) == "QUANTDESK_UNIVERSE"
