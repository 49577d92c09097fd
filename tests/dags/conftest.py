"""Airflow for tests: a private AIRFLOW_HOME (never ~/airflow), no examples, a migrated DB.

The environment is set when this file is imported, before any test module imports Airflow,
because Airflow reads its configuration once at import.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

DAGS_FOLDER = Path(__file__).resolve().parents[2] / "dags"

if "AIRFLOW_HOME" not in os.environ:
    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="quantdesk-airflow-")
    atexit.register(shutil.rmtree, os.environ["AIRFLOW_HOME"], ignore_errors=True)
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
# dag.test() serializes the DAG through the "dags-folder" bundle, which must be our folder.
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS_FOLDER)


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """Migrate Airflow's SQLite metadata DB once per test process (``dag.test`` needs it)."""
    from airflow.utils.db import upgradedb

    upgradedb()
    return Path(os.environ["AIRFLOW_HOME"])
