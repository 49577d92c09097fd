"""The train step end to end on a synthetic lake, and the model commands a user runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from quantdesk.config import Settings, load_settings
from quantdesk.data.lake import Lake
from quantdesk.data.sources.synthetic import SyntheticConfig, SyntheticSource
from quantdesk.domain import Granularity
from quantdesk.pipelines.train_hybrid import TrainHybridSummary, train_hybrid
from quantdesk.store.operational_store import OperationalStore
from tests.tiny_models import TINY_HYBRID

QUANTDESK = str(Path(sys.executable).with_name("quantdesk"))
SYMBOLS = ("BTC-USD", "ETH-USD")
START, END = datetime(2015, 6, 1, tzinfo=UTC), datetime(2017, 1, 1, tzinfo=UTC)
TINY = TINY_HYBRID

pytestmark = pytest.mark.slow


def _settings(home: Path) -> Settings:
    return load_settings(home=home, universe=SYMBOLS, models=TINY)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, TrainHybridSummary]:
    home = tmp_path_factory.mktemp("home")
    source = SyntheticSource(SyntheticConfig(seed=3, symbols=(*SYMBOLS, "SPX"), gap_rate=0.0))
    lake = Lake(home / "lake")
    for symbol in (*SYMBOLS, "SPX"):
        lake.write_bars(
            source.fetch_bars(symbol, Granularity.D1, datetime(2015, 1, 1, tzinfo=UTC), END)
        )
    return home, train_hybrid(_settings(home), START, END, promote=True)


def test_train_hybrid_registers_a_champion_with_scores_and_baselines(
    trained: tuple[Path, TrainHybridSummary],
) -> None:
    # Arrange
    home, summary = trained

    # Assert
    assert summary.version == 1 and not summary.reused and summary.promoted
    assert summary.source == "lake"  # no offline store was built: computed by the same code
    assert len(summary.fold_ic) == 2 and summary.samples > 500
    assert set(summary.baseline_ic) == {
        "always_flat",
        "momentum_sign",
        "logistic",
        "gradient_boosting",
    }
    events = OperationalStore.from_settings(_settings(home)).list_audit_events(
        "model:quantdesk-hybrid"
    )
    assert [e.action for e in events] == ["model.registered", "model.promoted"]


def test_train_hybrid_rerun_on_same_data_reuses_the_version(
    trained: tuple[Path, TrainHybridSummary],
) -> None:
    # Arrange
    home, first = trained

    # Act
    again = train_hybrid(_settings(home), START, END)

    # Assert
    assert again.reused and again.version == first.version and again.oos_ic == first.oos_ic


def _cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUANTDESK_")}
    env["QUANTDESK_HOME"] = str(home)
    return subprocess.run([QUANTDESK, *args], capture_output=True, text=True, env=env,
                          timeout=120, check=False)  # fmt: skip


def test_cli_models_list_show_and_rollback_without_history(
    trained: tuple[Path, TrainHybridSummary],
) -> None:
    # Arrange
    home, summary = trained

    # Act
    listed = _cli("models", "list", "--json", home=home)
    shown = _cli("models", "show", "champion", home=home)
    rollback = _cli("models", "rollback", "--reason", "test", home=home)
    bad_date = _cli("train", "hybrid", "--start", "yesterday", "--end", "2017-01-01", home=home)

    # Assert
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert rows[0]["version"] == summary.version and rows[0]["aliases"] == ["champion"]
    assert json.loads(shown.stdout)["scores"]["fold_scores"] == list(summary.fold_ic)
    assert rollback.returncode == 1 and "no previous champion" in rollback.stderr
    assert bad_date.returncode == 2 and "--start" in bad_date.stderr


def test_train_hybrid_on_other_data_rescores_the_champion_on_the_new_folds(
    trained: tuple[Path, TrainHybridSummary],
) -> None:
    # Arrange: another span means other folds, where the champion's stored scores don't apply.
    home, first = trained
    settings = _settings(home)

    # Act
    second = train_hybrid(settings, START, datetime(2016, 12, 1, tzinfo=UTC), promote=True)

    # Assert
    assert second.version == first.version + 1 and not second.reused
    assert not any("not comparable" in r for r in second.reasons)
    last = OperationalStore.from_settings(settings).list_audit_events("model:quantdesk-hybrid")[-1]
    assert last.action in {"model.promoted", "model.promotion_refused"}
    assert last.payload["champion_rescored"] is True


def test_training_frame_from_offline_store_equals_the_lake_computation(tmp_path: Path) -> None:
    # Arrange: a lake, and the offline store built from it by the features step.
    from quantdesk.features.names import FEATURE_SERVICES
    from quantdesk.models.lake_training_data import load_training_frame
    from quantdesk.pipelines.build_features import build_features

    source = SyntheticSource(SyntheticConfig(seed=5, symbols=(*SYMBOLS, "SPX"), gap_rate=0.0))
    lake = Lake(tmp_path / "lake")
    for symbol in (*SYMBOLS, "SPX"):
        lake.write_bars(
            source.fetch_bars(
                symbol,
                Granularity.D1,
                datetime(2015, 1, 1, tzinfo=UTC),
                datetime(2016, 1, 1, tzinfo=UTC),
            )
        )
    settings = _settings(tmp_path)
    build_features(settings, symbols=SYMBOLS, end=datetime(2016, 1, 1, tzinfo=UTC))
    features = FEATURE_SERVICES["hybrid_v1"]
    span = (datetime(2015, 6, 1, tzinfo=UTC), datetime(2016, 1, 1, tzinfo=UTC))

    # Act
    offline = load_training_frame(settings, SYMBOLS, *span, features, source="offline")
    computed = load_training_frame(settings, SYMBOLS, *span, features, source="lake")

    # Assert
    assert offline.source == "offline" and computed.source == "lake"
    assert len(offline.frame) == len(computed.frame) > 300
    np.testing.assert_allclose(
        offline.frame[list(features)].to_numpy(dtype=float),
        computed.frame[list(features)].to_numpy(dtype=float),
        rtol=1e-9,
        atol=1e-12,
        equal_nan=True,
    )
    np.testing.assert_array_equal(offline.labels.direction, computed.labels.direction)


def test_tune_hybrid_records_the_trial_count_and_best_overrides_in_mlflow(
    trained: tuple[Path, TrainHybridSummary],
) -> None:
    # Arrange
    import mlflow
    import ray

    from quantdesk.pipelines.train_hybrid import tune_hybrid

    home, _ = trained

    # Act
    try:
        summary = tune_hybrid(_settings(home), START, END, trials=2)
    finally:
        ray.shutdown()

    # Assert
    run = mlflow.MlflowClient().get_run(summary.run_id)
    assert summary.trials == 2 and run.data.metrics["trial_count"] == 2
    assert run.data.params["tune.scheduler"] == "ASHA"
    assert {"window", "learning_rate", "conv_channels"} <= set(summary.best_config)
