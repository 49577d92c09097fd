"""The ``materialize_features`` batch step and ``quantdesk features materialize``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from quantdesk.commands import feature_materialize
from quantdesk.commands.context import state
from quantdesk.config import load_settings
from quantdesk.domain.errors import NotFoundError
from quantdesk.features import names
from quantdesk.features.feast_store import open_feature_store
from quantdesk.features.offline_store import write_offline_store
from quantdesk.pipelines.materialize_features import materialize_features
from tests.unit.features.feast_frames import COMPUTED_AT, END, SYMBOLS, feature_frame


def test_materialize_features_twice_gives_the_same_summary_and_serves_every_symbol(
    tmp_path: Path,
) -> None:
    # Arrange
    settings = load_settings(home=tmp_path)
    write_offline_store(feature_frame(), settings.offline_features_dir, COMPUTED_AT)

    # Act
    first = materialize_features(settings, END)
    second = materialize_features(settings, END)

    # Assert
    assert replace(first, seconds=0.0) == replace(second, seconds=0.0)
    assert first.feature_views == tuple(sorted(names.FEATURE_VIEWS))
    assert first.feature_services == tuple(sorted(names.FEATURE_SERVICES))
    assert first.end == END and first.online_store == "sqlite"
    assert first.symbols == tuple(sorted(SYMBOLS))
    assert first.rows_in_window > 0
    online = open_feature_store(settings).online_features(list(SYMBOLS), "rl_v1", as_of=END)
    assert online.drop(columns="symbol").notna().all().all()


def test_materialize_features_without_offline_files_raises_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="quantdesk features build"):
        materialize_features(load_settings(home=tmp_path), END)


@pytest.fixture
def restore_cli_state() -> Iterator[None]:
    previous = state.settings
    yield
    state.settings = previous


@pytest.mark.usefixtures("restore_cli_state")
def test_features_materialize_command_prints_the_window(tmp_path: Path) -> None:
    # Arrange: the command as `commands/features.py` mounts it.
    settings = load_settings(home=tmp_path)
    write_offline_store(feature_frame(), settings.offline_features_dir, COMPUTED_AT)
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        state.settings = settings

    feature_materialize.register(app)

    # Act
    result = CliRunner().invoke(app, ["materialize", "--end", END.isoformat()])
    naive = CliRunner().invoke(app, ["materialize", "--end", END.replace(tzinfo=None).isoformat()])
    bad = CliRunner().invoke(app, ["materialize", "--end", "next tuesday"])

    # Assert
    assert result.exit_code == 0, result.output
    assert "materialized 4 views into sqlite" in result.output
    assert END.isoformat() in result.output
    assert naive.exit_code == 0 and END.isoformat() in naive.output  # read as UTC
    assert "not an ISO date" in str(bad.exception)
