"""Walk-forward training: determinism, early stopping, checkpoints, folds and baselines."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import torch

from quantdesk.domain.errors import InvalidInputError
from quantdesk.features.datasets import WindowedDataset
from quantdesk.features.splits import walk_forward_splits
from quantdesk.models.architecture import HybridArchitecture
from quantdesk.models.baselines import run_baselines
from quantdesk.models.bundle import load_bundle, save_bundle
from quantdesk.models.training import EpochRecord, train_walk_forward
from tests.unit.models.training_fixtures import (
    COSTS,
    SMALL_SPEC,
    synthetic_dataset,
    synthetic_market,
    tiny_architecture,
    tiny_training,
)

END = datetime(2015, 12, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def dataset() -> WindowedDataset:
    torch.set_num_threads(1)
    return synthetic_dataset(synthetic_market(0.5), END)


def test_train_walk_forward_same_seed_gives_identical_predictions(dataset: WindowedDataset) -> None:
    # Arrange
    arch, config = tiny_architecture(dataset.x.shape[2]), tiny_training(max_epochs=3)

    # Act
    first = train_walk_forward(dataset, SMALL_SPEC, arch, config, COSTS)
    second = train_walk_forward(dataset, SMALL_SPEC, arch, config, COSTS)

    # Assert
    np.testing.assert_array_equal(first.forecast, second.forecast)
    np.testing.assert_array_equal(first.probabilities, second.probabilities)


def test_train_walk_forward_scores_only_test_windows_and_writes_checkpoints(
    dataset: WindowedDataset, tmp_path: Path
) -> None:
    # Arrange
    epochs: list[EpochRecord] = []

    # Act
    result = train_walk_forward(dataset, SMALL_SPEC, tiny_architecture(dataset.x.shape[2]),
                                tiny_training(max_epochs=4), COSTS,
                                checkpoint_dir=tmp_path, on_epoch=epochs.append)  # fmt: skip

    # Assert
    folds = walk_forward_splits(dataset.n_times, SMALL_SPEC)
    expected = np.concatenate([f.test.select(dataset.time_positions) for f in folds])
    np.testing.assert_array_equal(result.test_indices, expected)
    assert result.report.n == len(expected)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fold-0.pt", "fold-1.pt"]
    assert {e.fold for e in epochs} == {0, 1}
    for outcome in result.folds:
        assert 1 <= outcome.best_epoch <= len(outcome.epochs) <= 4
        assert outcome.temperature > 0


def test_train_walk_forward_early_stopping_halts_after_patience(dataset: WindowedDataset) -> None:
    # Arrange: a huge learning rate makes validation loss stop improving quickly.
    config = replace(tiny_training(max_epochs=40), learning_rate=0.5, patience=2)

    # Act
    result = train_walk_forward(
        dataset, SMALL_SPEC, tiny_architecture(dataset.x.shape[2]), config, COSTS
    )

    # Assert
    for outcome in result.folds:
        assert len(outcome.epochs) < 40
        assert len(outcome.epochs) - outcome.best_epoch == 2


def test_train_walk_forward_feature_count_mismatch_raises(dataset: WindowedDataset) -> None:
    with pytest.raises(InvalidInputError, match="features"):
        train_walk_forward(dataset, SMALL_SPEC, HybridArchitecture(n_features=99),
                           tiny_training(1), COSTS)  # fmt: skip


def test_bundle_roundtrip_predicts_identically(dataset: WindowedDataset, tmp_path: Path) -> None:
    # Arrange
    result = train_walk_forward(dataset, SMALL_SPEC, tiny_architecture(dataset.x.shape[2]),
                                tiny_training(max_epochs=2), COSTS)  # fmt: skip

    # Act
    loaded, meta = load_bundle(save_bundle(result.model, tmp_path / "b", {"data_hash": "abc"}))

    # Assert
    for a, b in zip(
        loaded.predict(dataset.x[:20]), result.model.predict(dataset.x[:20]), strict=True
    ):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    assert loaded.features == dataset.feature_names and meta == {"data_hash": "abc"}


def test_baselines_score_the_same_test_samples_as_the_hybrid(dataset: WindowedDataset) -> None:
    # Act
    results = run_baselines(dataset, SMALL_SPEC, COSTS)

    # Assert
    folds = walk_forward_splits(dataset.n_times, SMALL_SPEC)
    n_test = sum(len(f.test.select(dataset.time_positions)) for f in folds)
    names = [r.name for r in results]
    assert names == ["always_flat", "momentum_sign", "logistic", "gradient_boosting"]
    assert all(r.report.n == n_test for r in results)
    flat = results[0].report
    assert flat.ic == 0.0 and flat.mean_turnover == 0.0 and flat.sharpe_after_costs == 0.0
    assert results[2].report.ic > 0.2  # the planted signal is linear: logistic finds it
