"""MLflow tracking and the registry: aliases, the audited gate, rollback, exact loading."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import mlflow
import numpy as np
import pytest
import torch

from quantdesk.config import Settings, load_settings
from quantdesk.domain.errors import NotFoundError
from quantdesk.features.datasets import WindowedDataset
from quantdesk.models.promotion_gate import CandidateScores, GateCriteria
from quantdesk.models.registry import CHALLENGER, CHAMPION, ModelRegistry, load_hybrid
from quantdesk.models.tracking import TrainingRun
from quantdesk.models.training import WalkForwardResult, train_walk_forward
from quantdesk.store.operational_store import OperationalStore
from tests.unit.models.training_fixtures import (
    COSTS,
    SMALL_SPEC,
    synthetic_dataset,
    synthetic_market,
    tiny_architecture,
    tiny_training,
)

NAME = "test-hybrid"
CRITERIA = GateCriteria(metric="ic", margin=0.01, max_ece=0.2)


@pytest.fixture(scope="module")
def trained() -> tuple[WindowedDataset, WalkForwardResult]:
    torch.set_num_threads(1)
    data = synthetic_dataset(synthetic_market(0.5), datetime(2015, 12, 1, tzinfo=UTC))
    arch = tiny_architecture(data.x.shape[2])
    return data, train_walk_forward(data, SMALL_SPEC, arch, tiny_training(max_epochs=2), COSTS)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(home=tmp_path / "home")


@pytest.fixture
def store(settings: Settings) -> OperationalStore:
    store = OperationalStore(settings.resolved_database_url)
    store.upgrade()
    return store


def _log(settings: Settings, data: WindowedDataset, result: WalkForwardResult) -> tuple[str, str]:
    with TrainingRun(settings, "hybrid-test", "run") as run:
        for record in result.folds[0].epochs:
            run.on_epoch(record)
        uri = run.log_training(result, data, SMALL_SPEC, tiny_training(max_epochs=2))
    return run.run_id, uri


def _scores(ic: float, ece: float = 0.05) -> CandidateScores:
    return CandidateScores("ic", (ic, ic), "folds-a", ece)


def test_training_run_logs_params_metrics_hashes_and_artifacts(
    settings: Settings, trained: tuple[WindowedDataset, WalkForwardResult]
) -> None:
    # Arrange
    data, result = trained

    # Act
    run_id, _ = _log(settings, data, result)

    # Assert
    run = mlflow.MlflowClient().get_run(run_id)
    assert run.data.params["data.hash"] == data.data_hash
    assert run.data.params["data.config_hash"] == data.config_hash
    assert "arch.conv_channels" in run.data.params and "train.learning_rate" in run.data.params
    assert run.data.metrics["oos.ic"] == pytest.approx(result.report.ic)
    history = mlflow.MlflowClient().get_metric_history(run_id, "fold0.train_loss")
    assert len(history) == len(result.folds[0].epochs)
    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(run_id)}
    assert {"scaler.json", "features.json"} <= artifacts
    assert str(settings.mlflow_artifacts_dir) in run.info.artifact_uri


def test_registry_load_by_alias_gives_exactly_the_registered_model(
    settings: Settings, trained: tuple[WindowedDataset, WalkForwardResult]
) -> None:
    # Arrange
    data, result = trained
    _, uri = _log(settings, data, result)
    registry = ModelRegistry(settings)
    version = registry.register(NAME, uri, _scores(0.1))

    # Act
    loaded = load_hybrid(settings, NAME, CHALLENGER)

    # Assert
    assert loaded.version == version
    assert loaded.model.features == result.model.features
    np.testing.assert_array_equal(loaded.model.scaler.mean, result.model.scaler.mean)
    np.testing.assert_array_equal(loaded.model.scaler.std, result.model.scaler.std)
    for a, b in zip(
        loaded.model.predict(data.x[:16]), result.model.predict(data.x[:16]), strict=True
    ):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    assert loaded.metadata["data_hash"] == data.data_hash


def test_registry_gate_promotes_refuses_and_rolls_back_with_audit(
    settings: Settings, store: OperationalStore, trained: tuple[WindowedDataset, WalkForwardResult]
) -> None:
    # Arrange: three versions of one logged model with different recorded scores.
    data, result = trained
    _, uri = _log(settings, data, result)
    registry = ModelRegistry(settings, audit=store, actor="tester")

    # Act
    v1 = registry.register(NAME, uri, _scores(0.05))
    first = registry.promote(NAME, CRITERIA)
    v2 = registry.register(NAME, uri, _scores(0.055))
    refused = registry.promote(NAME, CRITERIA)
    v3 = registry.register(NAME, uri, _scores(0.10))
    promoted = registry.promote(NAME, CRITERIA)
    champion_after_promotion = registry.by_alias(NAME, CHAMPION).version
    restored = registry.rollback(NAME, reason="live drawdown")

    # Assert
    assert first.promote and not refused.promote and promoted.promote
    assert champion_after_promotion == v3
    assert restored == v1 and registry.by_alias(NAME, CHAMPION).version == v1
    with pytest.raises(NotFoundError):  # the promoted challenger no longer holds that alias
        registry.by_alias(NAME, CHALLENGER)
    assert CHALLENGER not in registry.version(NAME, v2).aliases
    actions = [e.action for e in store.list_audit_events(f"model:{NAME}")]
    assert actions == [
        "model.registered", "model.promoted", "model.registered", "model.promotion_refused",
        "model.registered", "model.promoted", "model.rolled_back",
    ]  # fmt: skip
    refusal = store.list_audit_events(f"model:{NAME}")[3].payload
    assert any("does not beat" in r for r in refusal["reasons"])  # type: ignore[attr-defined]
    assert store.verify_audit_chain()


def test_registry_rollback_without_previous_champion_raises(settings: Settings) -> None:
    with pytest.raises(NotFoundError, match="no previous champion"):
        ModelRegistry(settings).rollback("never-registered")
