"""Daily compliance export of the previous UTC day (decisions, orders, breaches, models).

The data interval starts at 00:30 UTC, so the run for day D fires at 00:30 on D+1, after
the day's last records are in.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronDataIntervalTimetable, dag

from quantdesk.orchestration.airflow_tasks import build_task
from quantdesk.orchestration.dag_policy import dag_options
from quantdesk.orchestration.task_catalog import EXPORT_COMPLIANCE


@dag(
    dag_id="export_compliance",
    schedule=CronDataIntervalTimetable("30 0 * * *", timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    doc_md=__doc__,
    **dag_options(tags=["governance", "daily"]),
)
def export_compliance() -> None:
    build_task(EXPORT_COMPLIANCE)


export_compliance()
