"""Weekly Ray Tune (ASHA) sweep of the hybrid's hyperparameters, Sundays 06:00 UTC.

Runs the day after ``train_hybrid`` so the two never compete for the same workers. The best
configuration and every trial are logged to MLflow for a person to review and adopt through
``QUANTDESK_MODELS__*``; nothing is registered or promoted automatically (no outlet), because
a sweep's winner on validation folds is not yet a tested model.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronDataIntervalTimetable, dag

from quantdesk.orchestration.airflow_tasks import build_task
from quantdesk.orchestration.dag_policy import dag_options
from quantdesk.orchestration.task_catalog import TUNE_HYBRID


@dag(
    dag_id="tune_hybrid",
    schedule=CronDataIntervalTimetable("0 6 * * 0", timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    doc_md=__doc__,
    **dag_options(tags=["models", "tuning", "weekly"]),
)
def tune_hybrid() -> None:
    build_task(TUNE_HYBRID)


tune_hybrid()
