"""How Settings become a Feast configuration: embedded SQLite or Redis, no secret on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from quantdesk.config import load_settings
from quantdesk.domain.errors import ConfigurationError
from quantdesk.features.feast_store import feast_redis_connection, render_feast_config


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://127.0.0.1:6379/15", "127.0.0.1:6379,db=15"),
        ("redis://cache", "cache:6379"),
        (
            "rediss://feast:p%40ss@redis.prod:6380/2",
            "redis.prod:6380,db=2,username=feast,password=p@ss,ssl=true",
        ),
    ],
)
def test_feast_redis_connection_from_url_gives_feast_format(url: str, expected: str) -> None:
    assert feast_redis_connection(url) == expected


@pytest.mark.parametrize(
    "url", ["http://cache:6379/0", "redis://cache:6379/zero", "redis://:a,b@cache:6379/0"]
)
def test_feast_redis_connection_bad_url_raises_configuration_error(url: str) -> None:
    with pytest.raises(ConfigurationError, match="QUANTDESK_REDIS_URL"):
        feast_redis_connection(url)


def test_render_feast_config_default_is_sqlite_with_paths_under_home(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path)

    config = render_feast_config(settings)

    assert config["project"] == "quantdesk"
    assert config["online_store"] == {"type": "sqlite", "path": "feast/online_store.db"}
    assert config["registry"]["path"] == "feast/registry.db"
    assert config["offline_store"] == {"type": "file"}


def test_render_feast_config_redis_takes_connection_from_redis_url(tmp_path: Path) -> None:
    settings = load_settings(
        home=tmp_path,
        redis_url="redis://:s3cret@cache:6379/3",
        feast={"online_store": "redis", "project": "staging"},
    )
    embedded = render_feast_config(load_settings(home=tmp_path))

    config = render_feast_config(settings)

    assert config["online_store"]["type"] == "redis"
    assert config["online_store"]["connection_string"] == "cache:6379,db=3,password=s3cret"
    assert config["project"] == "staging"
    # Only the online store differs: both read the same registry and offline files.
    same = {k: v for k, v in config.items() if k not in ("online_store", "project")}
    assert same == {k: v for k, v in embedded.items() if k not in ("online_store", "project")}


def test_render_feast_config_redis_without_redis_url_names_the_variable(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path, feast={"online_store": "redis"})

    with pytest.raises(ConfigurationError, match="QUANTDESK_REDIS_URL"):
        render_feast_config(settings)


def test_render_feast_config_missing_repo_names_the_setting(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path, feast={"repo_dir": tmp_path / "nowhere"})

    with pytest.raises(ConfigurationError, match="QUANTDESK_FEAST__REPO_DIR"):
        render_feast_config(settings)
