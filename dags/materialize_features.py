"""Apply the Feast repo and materialize the newest features into the online store.

Triggered by the offline feature asset; the online store then serves what the API reads.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, dag

from quantdesk.orchestration.airflow_tasks import build_task
from quantdesk.orchestration.dag_policy import dag_options
from quantdesk.orchestration.task_catalog import FEATURES_OFFLINE, MATERIALIZE_FEATURES


@dag(
    dag_id="materialize_features",
    schedule=[Asset(name=FEATURES_OFFLINE)],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    doc_md=__doc__,
    **dag_options(tags=["features", "feast"]),
)
def materialize_features() -> None:
    build_task(MATERIALIZE_FEATURES)


materialize_features()
