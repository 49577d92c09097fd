"""Recompute the daily features into the offline store whenever the clean zone changes.

The offline store merges by (symbol, event time), so a rebuild over all history is idempotent
and picks up late corrections; its success triggers ``materialize_features``.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, dag

from quantdesk.orchestration.airflow_tasks import build_task
from quantdesk.orchestration.dag_policy import dag_options
from quantdesk.orchestration.task_catalog import BUILD_FEATURES, LAKE_CLEAN


@dag(
    dag_id="build_features",
    schedule=[Asset(name=LAKE_CLEAN)],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    doc_md=__doc__,
    **dag_options(tags=["features"]),
)
def build_features() -> None:
    build_task(BUILD_FEATURES)


build_features()
