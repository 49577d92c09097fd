"""The quality gate, run whenever new raw bars land: clean zone, or quarantine and an alert.

It re-checks the trailing ``QUANTDESK_INGEST__VALIDATE_LOOKBACK_DAYS`` of every bar size. A
failing batch is quarantined with its report, a critical alert goes out, and the task fails,
so the clean-zone asset is not updated and no feature build runs on that data.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, dag

from quantdesk.orchestration.airflow_tasks import build_task
from quantdesk.orchestration.dag_policy import dag_options
from quantdesk.orchestration.task_catalog import LAKE_RAW, VALIDATE_MARKET_DATA


@dag(
    dag_id="validate_market_data",
    schedule=[Asset(name=LAKE_RAW)],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    doc_md=__doc__,
    **dag_options(tags=["data", "quality"]),
)
def validate_market_data() -> None:
    build_task(VALIDATE_MARKET_DATA)


validate_market_data()
