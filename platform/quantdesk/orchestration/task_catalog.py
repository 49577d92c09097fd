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
