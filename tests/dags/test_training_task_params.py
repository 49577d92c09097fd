"""The training tasks' rendered parameters fit their step functions (what a worker or a pod
receives as strings), and the trailing window they describe is the one trained on."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from quantdesk.domain import InvalidInputError
from quantdesk.orchestration.step_runner import convert_params, resolve_step
from quantdesk.orchestration.task_catalog import (
    MODEL_HYBRID,
    MODEL_RL,
    TRAIN_HYBRID,
    TRAIN_RL_ENSEMBLE,
    TUNE_HYBRID,
)
from quantdesk.orchestration.task_definition import PipelineTask
from quantdesk.pipelines.train_hybrid import trailing_window

# What Airflow renders for ``{{ dag_run.run_after }}`` (a pendulum DateTime as text).
RENDERED_RUN_AFTER = "2026-03-07 06:00:00+00:00"


@pytest.mark.parametrize(
    "task", [TRAIN_HYBRID, TUNE_HYBRID, TRAIN_RL_ENSEMBLE], ids=lambda t: t.name
)
def test_training_task_rendered_params_convert_to_typed_step_arguments(
    task: PipelineTask,
) -> None:
    # Arrange
    rendered = {
        key: RENDERED_RUN_AFTER if "{{" in value else value for key, value in task.params.items()
    }

    # Act
    arguments = convert_params(resolve_step(task.target), rendered)

    # Assert
    assert arguments == {"end": datetime(2026, 3, 7, 6, tzinfo=UTC), "lookback_days": 1825}
    assert task.heavy


def test_training_tasks_update_their_model_assets_and_tuning_none() -> None:
    # Assert
    assert TRAIN_HYBRID.outlets == (MODEL_HYBRID,)
    assert TRAIN_RL_ENSEMBLE.outlets == (MODEL_RL,)
    assert TUNE_HYBRID.outlets == ()


def test_trailing_window_ends_at_the_run_and_spans_lookback_days() -> None:
    # Act
    start, end = trailing_window(datetime(2026, 3, 7, 6, tzinfo=UTC), 10)

    # Assert
    assert (start, end) == (
        datetime(2026, 2, 25, 6, tzinfo=UTC),
        datetime(2026, 3, 7, 6, tzinfo=UTC),
    )


def test_trailing_window_zero_lookback_raises_invalid_input() -> None:
    # Act / Assert
    with pytest.raises(InvalidInputError, match="lookback_days"):
        trailing_window(datetime(2026, 3, 7, tzinfo=UTC), 0)
