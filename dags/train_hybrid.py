"""Weekly retraining of the CNN+LSTM hybrid on the trailing five years, Saturdays 06:00 UTC.

Weekly, not on the online-features asset: that asset changes every hour (each crypto hourly
bar flows through validate, build and materialize), while the hybrid is a daily-bar model
whose multi-year walk-forward fit barely moves with one more day. Hourly retraining would
spend hours of CPU per day and flood the registry with near-identical challengers. Saturday
morning comes after Friday's NYSE close and the crypto daily bar have been validated and
featurised. The window ends at the run's time and the lake is read as known then, so a rerun
registers nothing new (the training key matches). Success updates the hybrid model asset,
which triggers ``backtest_and_promote``.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronDataIntervalTimetable, dag

from quantdesk.orchestration.airflow_tasks import build_task
from quantdesk.orchestration.dag_policy import dag_options
from quantdesk.orchestration.task_catalog import TRAIN_HYBRID


@dag(
    dag_id="train_hybrid",
    schedule=CronDataIntervalTimetable("0 6 * * 6", timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    doc_md=__doc__,
    **dag_options(tags=["models", "training", "weekly"]),
)
def train_hybrid() -> None:
    build_task(TRAIN_HYBRID)


train_hybrid()
