"""Daily backup of everything under QUANTDESK_HOME: create the archive, then verify it.

Verification re-hashes every file against the archive's manifest; only a verified archive
lets old ones be pruned (keep ``QUANTDESK_RETENTION__BACKUPS_KEEP``).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronDataIntervalTimetable, dag

from quantdesk.orchestration.airflow_tasks import build_task
from quantdesk.orchestration.dag_policy import dag_options
from quantdesk.orchestration.task_catalog import CREATE_BACKUP, VERIFY_BACKUP


@dag(
    dag_id="backup_platform",
    schedule=CronDataIntervalTimetable("0 2 * * *", timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    doc_md=__doc__,
    **dag_options(tags=["operations", "daily"]),
)
def backup_platform() -> None:
    build_task(CREATE_BACKUP) >> build_task(VERIFY_BACKUP)


backup_platform()
