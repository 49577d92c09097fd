"""Ray Train data-parallel path: two workers train one fold and return usable best weights."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from quantdesk.config import load_settings
from quantdesk.features.splits import walk_forward_splits
from quantdesk.models.distributed_training import train_fold_data_parallel
from tests.unit.models.training_fixtures import (
    SMALL_SPEC,
    synthetic_dataset,
    synthetic_market,
    tiny_architecture,
    tiny_training,
)

pytestmark = pytest.mark.slow


def test_train_fold_data_parallel_two_workers_return_best_weights(tmp_path: Path) -> None:
    # Arrange
    import ray

    settings = load_settings(home=tmp_path)
    data = synthetic_dataset(synthetic_market(0.5), datetime(2015, 12, 1, tzinfo=UTC))
    fold = walk_forward_splits(data.n_times, SMALL_SPEC)[0]

    # Act
    try:
        outcome = train_fold_data_parallel(
            settings,
            data,
            fold,
            tiny_architecture(data.x.shape[2]),
            tiny_training(max_epochs=3),
            num_workers=2,
        )
    finally:
        ray.shutdown()

    # Assert
    assert outcome.workers == 2 and 1 <= len(outcome.validation_losses) <= 3
    assert outcome.best_epoch == 1 + int(np.argmin(outcome.validation_losses))
    probabilities, forecast = outcome.model.predict(data.x[fold.test.select(data.time_positions)])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)
    assert np.isfinite(forecast).all()
