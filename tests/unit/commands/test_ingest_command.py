"""``quantdesk ingest`` and ``quantdesk data quality`` as a user runs them, crash included."""

from __future__ import annotations

import signal
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from quantdesk.data.lake import PAUSE_ENV, Lake, Zone
from tests.unit.commands.test_backup_and_retention_commands import QUANTDESK, run_cli

YEAR = (datetime(2023, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, tzinfo=UTC))
CRYPTO = ["BTC-USD", "ETH-USD"]
INGEST = (
    "ingest", "--source", "synthetic", "--symbols", ",".join(CRYPTO), "--granularity", "1h",
    "--start", "2023-01-01", "--end", "2024-01-01",
)  # fmt: skip


def test_ingest_embedded_prints_each_symbol_and_the_gate_verdicts(tmp_path: Path) -> None:
    home = tmp_path / "home"

    result = run_cli(
        "ingest", "--symbols", "SPX,BTC-USD", "--start", "2011-01-01", "--end", "2011-04-01",
        home=home,
    )  # fmt: skip
    quality = run_cli("data", "quality", "--symbols", "SPX,BTC-USD", "--start", "2011-01-01",
                      "--end", "2011-04-01", home=home)  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert "SPX" in result.stdout and "BTC-USD" in result.stdout
    assert "equity: 62 bars clean" in result.stdout and "crypto: 90 bars clean" in result.stdout
    assert quality.returncode == 0 and "passed" in quality.stdout
    assert not [line for line in result.stderr.splitlines() if "great_expectations" in line]


def test_ingest_bad_input_exits_2_with_one_clear_line_and_writes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"

    unknown = run_cli("ingest", "--symbols", "SPX,NOPE", home=home)
    bad_size = run_cli("ingest", "--granularity", "7m", home=home)
    reversed_range = run_cli("ingest", "--start", "2012-01-01", "--end", "2011-01-01", home=home)
    no_token = run_cli(
        "ingest", "--source", "oanda", "--symbols", "EUR-USD", home=home,
        QUANTDESK_OANDA__ACCOUNT_ID="acct-secret-77",
    )  # fmt: skip

    for result, named in (
        (unknown, "'NOPE'"), (bad_size, "'7m'"), (reversed_range, "reversed"),
        (no_token, "QUANTDESK_OANDA__TOKEN"),
    ):  # fmt: skip
        assert result.returncode == 2, result.stderr
        assert result.stderr.strip().startswith("error:") and named in result.stderr
        assert "Traceback" not in result.stderr
    assert "acct-secret-77" not in no_token.stderr + no_token.stdout
    assert not (home / "lake").exists() or not Lake(home / "lake").partitions(Zone.RAW)


def test_ingest_killed_mid_write_keeps_whole_partitions_and_a_rerun_completes(
    tmp_path: Path,
) -> None:
    # Arrange: what an uninterrupted ingest produces.
    reference_home, home = tmp_path / "reference", tmp_path / "home"
    assert run_cli(*INGEST, "--no-validate", home=reference_home).returncode == 0
    expected = Lake(reference_home / "lake").read_bars(CRYPTO, *YEAR, granularity="1h",
                                                       zone=Zone.RAW)  # fmt: skip
    expected_rows = {
        key.file: len(pd.read_parquet(reference_home / "lake" / key.file.as_posix()))
        for key in Lake(reference_home / "lake").partitions(Zone.RAW)
    }

    # Act: a real `quantdesk ingest`, paused before each partition commit, killed mid-way.
    proc = subprocess.Popen(
        [QUANTDESK, *INGEST, "--no-validate"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=_env(home, **{PAUSE_ENV: "0.3"}),
    )  # fmt: skip
    lake = Lake(home / "lake")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(_committed(lake)) < 3:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    survivors = _committed(lake)
    partial = lake.read_bars(CRYPTO, *YEAR, granularity="1h", zone=Zone.RAW)
    rerun = run_cli(*INGEST, "--no-validate", home=home)
    final = lake.read_bars(CRYPTO, *YEAR, granularity="1h", zone=Zone.RAW)

    # Assert: killed mid-way, every committed partition is whole; the rerun completes the job.
    assert proc.returncode == -signal.SIGKILL
    assert 3 <= len(survivors) < len(expected_rows)
    for key in survivors:
        assert len(pd.read_parquet(home / "lake" / key.file.as_posix())) == expected_rows[key.file]
    assert (
        0 < len(partial) < len(expected) and not partial.duplicated(["symbol", "open_time"]).any()
    )
    assert rerun.returncode == 0, rerun.stderr
    pd.testing.assert_frame_equal(final, expected)


def _committed(lake: Lake) -> list:  # type: ignore[type-arg]
    return lake.partitions(Zone.RAW) if lake.root.exists() else []


def _env(home: Path, **extra: str) -> dict[str, str]:
    import os

    clean = {k: v for k, v in os.environ.items() if not k.startswith("QUANTDESK_")}
    return {**clean, "QUANTDESK_HOME": str(home), **extra}
