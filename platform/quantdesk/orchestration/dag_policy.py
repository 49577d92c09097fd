"""The policy every quantdesk DAG follows, in one place the integrity test checks.

Retries with exponential backoff (transient venue and storage errors heal themselves), a
timeout on every task and run (a hung task must not hold a slot forever), no catch-up (a
paused DAG does not replay months of runs when resumed), and an alert when a task has
failed for good.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from quantdesk.config import Settings, load_settings
from quantdesk.structured_logging import get_logger

BASE_TAGS = ("quantdesk",)

_log = get_logger(__name__)


def alert_on_failure(context: Mapping[str, Any]) -> None:
    """Airflow ``on_failure_callback``: raise a critical alert through the AlertManager.

    Called once retries are exhausted. Deduplicated per DAG and task, so a task failing in
    every run of a storm pages once per dedup window. Never raises: Airflow logs but ignores
    callback errors, and the alert manager already swallows delivery failures.
    """
    from quantdesk.monitoring.alert_manager import AlertManager
    from quantdesk.monitoring.alerts import Severity

    ti = context.get("ti") or context.get("task_instance")
    dag_id = str(getattr(ti, "dag_id", None) or "unknown_dag")
    task_id = str(getattr(ti, "task_id", None) or "unknown_task")
    lines = [
        f"run: {getattr(ti, 'run_id', None) or context.get('run_id', '?')}",
        f"try: {getattr(ti, 'try_number', '?')}",
        f"error: {context.get('exception')!r}",
    ]
    log_url = getattr(ti, "log_url", None)
    if log_url:
        lines.append(f"log: {log_url}")
    try:
        manager = AlertManager.from_settings(load_settings())
        manager.raise_alert(
            Severity.CRITICAL,
            f"Airflow task failed: {dag_id}.{task_id}",
            "\n".join(lines),
            source="airflow",
            dedup_key=f"airflow:{dag_id}:{task_id}",
        )
    except Exception as exc:  # settings may be broken too: log, never fail the callback
        _log.error("airflow.failure_alert_failed", dag_id=dag_id, task_id=task_id, error=repr(exc))


def default_args(settings: Settings | None = None) -> dict[str, Any]:
    """``default_args`` for every task of every quantdesk DAG."""
    cfg = (settings or load_settings()).orchestration
    return {
        "owner": cfg.owner,
        "retries": cfg.retries,
        "retry_delay": timedelta(seconds=cfg.retry_delay_seconds),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(seconds=cfg.max_retry_delay_seconds),
        "execution_timeout": timedelta(minutes=cfg.execution_timeout_minutes),
        "on_failure_callback": alert_on_failure,
    }


def dag_options(settings: Settings | None = None, tags: Sequence[str] = ()) -> dict[str, Any]:
    """Keyword arguments for ``@dag``/``DAG``: policy defaults plus the DAG's own tags."""
    resolved = settings or load_settings()
    return {
        "default_args": default_args(resolved),
        "catchup": False,
        "max_active_runs": 1,
        "dagrun_timeout": timedelta(minutes=resolved.orchestration.dagrun_timeout_minutes),
        "tags": sorted({*BASE_TAGS, *tags}),
    }
