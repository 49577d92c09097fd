"""The training tasks' rendered parameters fit their step functions (what a worker or a pod
receives as strings), and the trailing window they describe is the one trained on."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

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
from tests.dags.conftest import DAGS_FOLDER

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


@pytest.mark.parametrize(
    ("dag_id", "step", "outlets"),
    [
        ("train_hybrid", "train_hybrid:train_hybrid_step", [MODEL_HYBRID]),
        ("tune_hybrid", "train_hybrid:tune_hybrid_step", []),
        ("train_rl_ensemble", "train_rl:train_rl_step", [MODEL_RL]),
        ("backtest_and_promote", "backtest_and_promote:backtest_and_promote", []),
    ],
)
def test_model_dag_in_kubernetes_mode_runs_its_step_in_a_pod(
    dag_id: str, step: str, outlets: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Arrange
    from airflow.dag_processing.dagbag import DagBag
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

    monkeypatch.setenv("QUANTDESK_ORCHESTRATION__MODE", "kubernetes")

    # Act
    dag = DagBag(dag_folder=str(DAGS_FOLDER / f"{dag_id}.py")).dags[dag_id]

    # Assert
    [task] = dag.tasks
    assert isinstance(task, KubernetesPodOperator)
    assert task.arguments[:3] == ["step", "run", f"quantdesk.pipelines.{step}"]
    assert [outlet.name for outlet in task.outlets] == outlets


def test_data_window_ends_where_a_stale_lake_ends_and_at_the_run_for_a_current_one(
    tmp_path: Path,
) -> None:
    # Arrange: a lake whose newest daily bar opens 2012-12-31 (like the embedded history).
    from quantdesk.config import load_settings
    from quantdesk.data.lake import Lake
    from quantdesk.data.sources.synthetic import SyntheticConfig, SyntheticSource
    from quantdesk.pipelines.train_hybrid import data_window

    settings = load_settings(home=tmp_path / "home", universe=["BTC-USD"])
    source = SyntheticSource(SyntheticConfig(symbols=("BTC-USD",), first_year=2012))
    bars = source.fetch_bars(
        "BTC-USD", "1d", datetime(2012, 1, 1, tzinfo=UTC), datetime(2013, 1, 1, tzinfo=UTC)
    )
    Lake(settings.lake_dir).write_bars(bars)

    # Act
    stale = data_window(settings, datetime(2026, 3, 7, 6, tzinfo=UTC), 100)
    current = data_window(settings, datetime(2012, 12, 1, tzinfo=UTC), 100)

    # Assert
    assert stale == (datetime(2012, 9, 23, tzinfo=UTC), datetime(2013, 1, 1, tzinfo=UTC))
    assert current == (datetime(2012, 8, 23, tzinfo=UTC), datetime(2012, 12, 1, tzinfo=UTC))
