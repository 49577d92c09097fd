"""The ``quantdesk`` command as a user runs it: a real process with a real environment."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

QUANTDESK = str(Path(sys.executable).with_name("quantdesk"))


def run_cli(*args: str, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("QUANTDESK_")}
    clean.update({"QUANTDESK_HOME": str(home), **env})
    return subprocess.run(
        [QUANTDESK, *args], capture_output=True, text=True, env=clean, cwd=home.parent, timeout=120
    )


def test_info_json_reports_version_paths_services_and_masks_secrets(tmp_path: Path) -> None:
    home = tmp_path / "home"

    result = run_cli(
        "info", "--json", home=home,
        QUANTDESK_OANDA__TOKEN="tok-s3cr3t",
        QUANTDESK_ROBINHOOD__PASSWORD="pw-s3cr3t",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["version"]
    assert report["paths"]["home"] == str(home.resolve())
    assert {s["name"] for s in report["services"]} == {"database", "redis", "mlflow", "ray"}
    assert report["settings"]["oanda"]["token"] == "**********"
    assert "s3cr3t" not in result.stdout + result.stderr
    assert not home.exists(), "info must not create state"


def test_info_reports_unreachable_redis(tmp_path: Path) -> None:
    result = run_cli(
        "info", "--json", home=tmp_path / "h", QUANTDESK_REDIS_URL="redis://127.0.0.1:1/0"
    )

    redis = next(s for s in json.loads(result.stdout)["services"] if s["name"] == "redis")
    assert redis["ok"] is False
    assert "Error" in redis["detail"]


def test_invalid_setting_exits_2_naming_variable(tmp_path: Path) -> None:
    result = run_cli("info", home=tmp_path / "h", QUANTDESK_RAY__NUM_CPUS="many")

    assert result.returncode == 2
    assert "QUANTDESK_RAY__NUM_CPUS" in result.stderr
    assert "Traceback" not in result.stderr


def test_db_upgrade_creates_schema_and_is_idempotent(tmp_path: Path) -> None:
    home = tmp_path / "home"

    first = run_cli("db", "upgrade", home=home)
    second = run_cli("db", "upgrade", home=home)

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert first.stdout == second.stdout
    with sqlite3.connect(home / "quantdesk.db") as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert {"signals", "decisions", "orders", "audit_events", "api_usage"} <= tables
    log_lines = [json.loads(line) for line in first.stderr.splitlines() if line.startswith("{")]
    assert any(line["event"] == "db.upgraded" and line["run_id"] for line in log_lines)


@pytest.mark.parametrize("args", [["--help"], ["db", "--help"]])
def test_help_lists_commands(tmp_path: Path, args: list[str]) -> None:
    result = run_cli(*args, home=tmp_path / "h")

    assert result.returncode == 0
    assert "upgrade" in result.stdout or "info" in result.stdout


def test_unknown_command_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("nosuch", home=tmp_path / "h")

    assert result.returncode == 2
    assert "No such command" in result.stderr
