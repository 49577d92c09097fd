"""Daily lake retention: delete partitions older than each zone's retention window.

Cut-offs are taken from the run's data-interval end, so rerunning a day deletes the same set.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronDataIntervalTimetable, dag

from quantdesk.orchestration.airflow_tasks import build_task
from quantdesk.orchestration.dag_policy import dag_options
from quantdesk.orchestration.task_catalog import APPLY_RETENTION


@dag(
    dag_id="apply_retention",
    schedule=CronDataIntervalTimetable("0 3 * * *", timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    doc_md=__doc__,
    **dag_options(tags=["operations", "daily"]),
)
def apply_retention() -> None:
    build_task(APPLY_RETENTION)


apply_retention()
