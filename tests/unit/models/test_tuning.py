"""Ray Tune (ASHA) sweep on local Ray: trials run, report validation IC, the best is picked."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from quantdesk.config import load_settings
from quantdesk.models.synthetic_training_data import synthetic_training_data
from quantdesk.models.tuning import CONV_CHOICES, TuneSpace, trials_table, tune_hybrid_search
from tests.unit.models.training_fixtures import COSTS, SMALL_SPEC, START, synthetic_market

pytestmark = pytest.mark.slow


def test_tune_hybrid_search_runs_every_trial_and_returns_the_best_by_validation(
    tmp_path: Path,
) -> None:
    # Arrange
    import ray

    settings = load_settings(home=tmp_path, models={"max_epochs": 2, "batch_size": 64})
    data = synthetic_training_data(synthetic_market(0.5), START, datetime(2015, 12, 1, tzinfo=UTC))
    space = TuneSpace(windows=(4, 8), convs=("c8",), lstm_hidden=(8,), dropout=(0.1,))

    # Act
    try:
        result = tune_hybrid_search(
            settings,
            data.frame,
            data.labels,
            data.features,
            SMALL_SPEC,
            COSTS,
            trials=4,
            space=space,
            time_column="timestamp",
        )
    finally:
        ray.shutdown()

    # Assert
    assert len(result.trials) == 4
    finished = [t for t in result.trials if t.folds_completed == SMALL_SPEC.n_folds]
    assert finished and result.best in finished
    assert result.best.validation_score == max(t.validation_score for t in finished)
    overrides = result.best_overrides()
    assert overrides["window"] in (4, 8) and overrides["conv_channels"] == CONV_CHOICES["c8"][0]
    assert len(trials_table(result)["validation_score"]) == 4
