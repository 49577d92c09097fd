"""Backtest the newest challengers against the champions and promote through the gate.

Runs whenever a training DAG registers a model (the hybrid or the RL model asset, either
one), so a challenger is judged as soon as it exists and never on a clock guess. The
backtest ends at the run's time; promotion is the audited gate's decision, never this DAG's.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, dag

from quantdesk.orchestration.airflow_tasks import build_task
from quantdesk.orchestration.dag_policy import dag_options
from quantdesk.orchestration.task_catalog import BACKTEST_AND_PROMOTE, MODEL_HYBRID, MODEL_RL


@dag(
    dag_id="backtest_and_promote",
    schedule=(Asset(name=MODEL_HYBRID) | Asset(name=MODEL_RL)),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    doc_md=__doc__,
    **dag_options(tags=["models", "backtest", "governance"]),
)
def backtest_and_promote() -> None:
    build_task(BACKTEST_AND_PROMOTE)


backtest_and_promote()
