"""Weekly walk-forward training of the RL ensemble (PPO, A2C, SAC), Saturdays 10:00 UTC.

Weekly for the same reason as ``train_hybrid`` (daily bars, a multi-year walk-forward fit),
four hours after it so the two heavy runs do not overlap. The window is the trailing five
years ending at the run's time, read as the lake knew it then. The new version is registered
as challenger only; success updates the RL model asset, which triggers
``backtest_and_promote`` where the shared gate decides.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronDataIntervalTimetable, dag

from quantdesk.orchestration.airflow_tasks import build_task
from quantdesk.orchestration.dag_policy import dag_options
from quantdesk.orchestration.task_catalog import TRAIN_RL_ENSEMBLE


@dag(
    dag_id="train_rl_ensemble",
    schedule=CronDataIntervalTimetable("0 10 * * 6", timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    doc_md=__doc__,
    **dag_options(tags=["models", "rl", "training", "weekly"]),
)
def train_rl_ensemble() -> None:
    build_task(TRAIN_RL_ENSEMBLE)


train_rl_ensemble()
