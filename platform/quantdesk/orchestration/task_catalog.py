"""The task definitions the DAGs use: one :class:`PipelineTask` per batch step.

Parameters are Jinja templates Airflow renders per run. Dates come from the data interval,
not ``ds``: for a scheduled run of a ``CronDataIntervalTimetable`` ``ds`` is the interval's
start, but for a manual run it is the trigger time while the interval is the last complete
one, so ``{{ data_interval_start | ds }}`` is the day an export covers on both.
"""

from __future__ import annotations

from quantdesk.config import PodResources
from quantdesk.orchestration.task_definition import PipelineTask

_LIGHT = PodResources(cpu_request="250m", memory_request="512Mi", cpu_limit="1", memory_limit="1Gi")

EXPORT_COMPLIANCE = PipelineTask(
    name="export_compliance",
    target="quantdesk.pipelines.export_compliance:export_compliance",
    params={"day": "{{ data_interval_start | ds }}"},
    resources=_LIGHT,
)

CREATE_BACKUP = PipelineTask(
    name="create_backup",
    target="quantdesk.pipelines.backup_platform:create_platform_backup",
    resources=PodResources(
        cpu_request="500m", memory_request="1Gi", cpu_limit="2", memory_limit="2Gi"
    ),
)

VERIFY_BACKUP = PipelineTask(
    name="verify_backup",
    target="quantdesk.pipelines.backup_platform:verify_and_prune",
    params={"location": "{{ ti.xcom_pull(task_ids='create_backup')['location'] }}"},
    resources=_LIGHT,
)

APPLY_RETENTION = PipelineTask(
    name="apply_retention",
    target="quantdesk.pipelines.apply_retention:apply_retention",
    params={"now": "{{ data_interval_end }}"},
    resources=_LIGHT,
)

# Airflow assets: a DAG scheduled on one runs when a task listing it as an outlet succeeds,
# so each step follows its data instead of a clock guess.
LAKE_RAW = "quantdesk_lake_raw"
LAKE_CLEAN = "quantdesk_lake_clean"
FEATURES_OFFLINE = "quantdesk_features_offline"
FEATURES_ONLINE = "quantdesk_features_online"

INTERVAL = {
    "interval_start": "{{ data_interval_start }}",
    "interval_end": "{{ data_interval_end }}",
}
# Asset-triggered runs have no logical date: they are stamped with when they were due.
RUN_AFTER = "{{ dag_run.run_after }}"


def ingest_task(asset_class: str) -> PipelineTask:
    """Ingest the bars of one asset class completed in the data interval (mapped per symbol)."""
    return PipelineTask(
        name=f"ingest_{asset_class}",
        target="quantdesk.pipelines.market_data:ingest_due_bars",
        params={"asset_class": asset_class, **INTERVAL},
        resources=_LIGHT,
        heavy=False,
        outlets=(LAKE_RAW,),
    )


VALIDATE_MARKET_DATA = PipelineTask(
    name="validate_market_data",
    target="quantdesk.pipelines.market_data:validate_recent_market_data",
    params={"end": RUN_AFTER},
    resources=_LIGHT,
    outlets=(LAKE_CLEAN,),
)

BUILD_FEATURES = PipelineTask(
    name="build_features",
    target="quantdesk.pipelines.build_features:build_features",
    resources=PodResources(
        cpu_request="1", memory_request="2Gi", cpu_limit="2", memory_limit="4Gi"
    ),
    outlets=(FEATURES_OFFLINE,),
)

MATERIALIZE_FEATURES = PipelineTask(
    name="materialize_features",
    target="quantdesk.pipelines.materialize_features:materialize_features",
    params={"end": RUN_AFTER},
    resources=_LIGHT,
    outlets=(FEATURES_ONLINE,),
)

# Models: each training DAG updates its model asset; a new challenger triggers the backtest.
MODEL_HYBRID = "quantdesk_model_hybrid"
MODEL_RL = "quantdesk_model_rl"

# Trailing training windows in calendar days. Five years covers the walk-forward folds of
# both models with their defaults (hybrid: 250 train + 4 x 120 test + validation bars; RL:
# 504 train + 3 x (63 + 63) bars + the 252-bar normalisation window) on equity calendars.
TRAINING_LOOKBACK_DAYS = "1825"

_TRAINING = PodResources(cpu_request="2", memory_request="4Gi", cpu_limit="4", memory_limit="8Gi")

TRAIN_HYBRID = PipelineTask(
    name="train_hybrid",
    target="quantdesk.pipelines.train_hybrid:train_hybrid_step",
    params={"end": RUN_AFTER, "lookback_days": TRAINING_LOOKBACK_DAYS},
    resources=_TRAINING,
    heavy=True,
    outlets=(MODEL_HYBRID,),
)

TUNE_HYBRID = PipelineTask(
    name="tune_hybrid",
    target="quantdesk.pipelines.train_hybrid:tune_hybrid_step",
    params={"end": RUN_AFTER, "lookback_days": TRAINING_LOOKBACK_DAYS},
    resources=_TRAINING,
    heavy=True,
)

TRAIN_RL_ENSEMBLE = PipelineTask(
    name="train_rl_ensemble",
    target="quantdesk.pipelines.train_rl:train_rl_step",
    params={"end": RUN_AFTER, "lookback_days": TRAINING_LOOKBACK_DAYS},
    resources=_TRAINING,
    heavy=True,
    outlets=(MODEL_RL,),
)

BACKTEST_AND_PROMOTE = PipelineTask(
    name="backtest_and_promote",
    target="quantdesk.pipelines.backtest_and_promote:backtest_and_promote",
    params={"end": RUN_AFTER},
    resources=PodResources(
        cpu_request="1", memory_request="2Gi", cpu_limit="2", memory_limit="4Gi"
    ),
    heavy=True,
)
