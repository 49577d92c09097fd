"""The Parquet lake: idempotent bitemporal writes, point-in-time reads, crash safety, retention."""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quantdesk.data import lake_query
from quantdesk.data.lake import PAUSE_ENV, Lake, Zone
from quantdesk.domain import (
    Granularity,
    InvalidDateRangeError,
    InvalidInputError,
    UnknownSymbolError,
)
from tests.bar_factory import JAN, make_bars

NAIVE = JAN.replace(tzinfo=None)
T_INGEST = datetime(2024, 6, 1, tzinfo=UTC)
FAST = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def corrected(frame: pd.DataFrame, delay: timedelta, factor: float = 1.01) -> pd.DataFrame:
    """The same bars re-issued ``delay`` later with every price scaled: a vendor correction."""
    out = frame.copy()
    for column in ("open", "high", "low", "close"):
        out[column] = out[column] * factor
    out["available_at"] = out["available_at"] + delay
    return out


def files_of(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.parquet"))}


def temp_litter(root: Path) -> list[Path]:
    return [p for p in root.rglob(".*.tmp")]


# -- idempotency and versions ---------------------------------------------------------------


def test_write_bars_same_window_twice_leaves_files_byte_identical(tmp_path: Path) -> None:
    # Arrange
    lake = Lake(tmp_path / "lake")
    bars = make_bars(periods=24 * 40)  # spans January and February: two partitions
    first = lake.write_bars(bars, ingested_at=T_INGEST)
    before = files_of(lake.root)

    # Act
    second = lake.write_bars(bars, ingested_at=T_INGEST + timedelta(days=1))

    # Assert
    assert (first.new, first.replaced, len(first.partitions)) == (len(bars), 0, 2)
    assert (second.new, second.replaced, second.unchanged) == (0, 0, len(bars))
    assert second.partitions == ()
    assert files_of(lake.root) == before


def test_write_bars_overlapping_windows_reads_each_bar_once(tmp_path: Path) -> None:
    # Arrange
    lake = Lake(tmp_path / "lake")
    bars = make_bars(periods=100)

    # Act
    lake.write_bars(bars.iloc[:70])
    summary = lake.write_bars(bars.iloc[30:])
    read = lake.read_bars("BTC-USD", JAN, JAN + timedelta(days=30), granularity="1h")

    # Assert
    assert (summary.new, summary.unchanged) == (30, 40)
    assert not read.duplicated(["symbol", "granularity", "open_time"]).any()
    pd.testing.assert_frame_equal(read, bars)


def test_write_bars_correction_with_later_available_at_is_stored_as_new_version(
    tmp_path: Path,
) -> None:
    # Arrange
    lake = Lake(tmp_path / "lake")
    bars = make_bars(periods=10)
    fix = corrected(bars.iloc[:4], delay=timedelta(days=2))
    lake.write_bars(bars)

    # Act
    summary = lake.write_bars(fix)
    latest = lake.read_bars("BTC-USD", JAN, JAN + timedelta(days=1), granularity="1h")
    before_fix = lake.read_bars(
        "BTC-USD", JAN, JAN + timedelta(days=1), granularity="1h", as_of=JAN + timedelta(days=1)
    )

    # Assert
    assert (summary.new, summary.replaced) == (4, 0)
    [coverage] = lake.coverage()
    assert (coverage.bars, coverage.versions) == (10, 14)
    pd.testing.assert_frame_equal(latest.iloc[:4], fix.reset_index(drop=True))
    pd.testing.assert_frame_equal(before_fix, bars)


def test_write_bars_same_version_with_new_values_replaces_it(tmp_path: Path) -> None:
    # Arrange: a re-delivery under the same available_at but different numbers.
    lake = Lake(tmp_path / "lake")
    bars = make_bars(periods=6)
    redelivered = corrected(bars.iloc[:2], delay=timedelta(0), factor=1.02)
    lake.write_bars(bars)

    # Act
    summary = lake.write_bars(redelivered)

    # Assert
    assert (summary.new, summary.replaced, summary.unchanged) == (0, 2, 0)
    [coverage] = lake.coverage()
    assert coverage.versions == 6
    read = lake.read_bars("BTC-USD", JAN, JAN + timedelta(days=1), granularity="1h")
    assert read["close"].iloc[:2].tolist() == redelivered["close"].tolist()


@FAST
@given(
    deliveries=st.lists(
        st.tuples(
            st.integers(0, 5),  # which bar
            st.integers(0, 96),  # hours after the close it became known
            st.floats(50, 150, allow_nan=False),  # its close in that version
            st.integers(0, 2),  # which batch delivered it
        ),
        min_size=1,
        max_size=30,
    ),
    as_of_hours=st.integers(0, 110),
)
def test_read_bars_as_of_never_sees_a_later_correction(
    deliveries: list[tuple[int, int, float, int]], as_of_hours: int
) -> None:
    # Arrange: a model of what was known when; later batches overwrite the same version.
    known: dict[tuple[int, int], float] = {}
    batches: dict[int, dict[tuple[int, int], float]] = {}
    for bar, delay, close, batch in sorted(deliveries, key=lambda d: d[3]):
        batches.setdefault(batch, {})[(bar, delay)] = close
        known[(bar, delay)] = close
    as_of = JAN + timedelta(hours=as_of_hours)
    expected: dict[pd.Timestamp, float] = {}
    for bar in sorted({b for b, _ in known}):
        visible = [
            (d, c)
            for (b, d), c in known.items()
            if b == bar and JAN + timedelta(hours=bar + 1 + d) <= as_of
        ]
        if visible:
            expected[pd.Timestamp(JAN + timedelta(hours=bar))] = max(visible)[1]

    with tempfile.TemporaryDirectory() as folder:
        lake = Lake(Path(folder))
        for _, versions in sorted(batches.items()):
            rows = [
                {
                    "symbol": "ETH-USD",
                    "venue": "coinbase",
                    "granularity": "1h",
                    "open_time": JAN + timedelta(hours=bar),
                    "open": close,
                    "high": close,
                    "low": close,
                    "close": close,
                    "volume": 1.0,
                    "available_at": JAN + timedelta(hours=bar + 1 + delay),
                }
                for (bar, delay), close in versions.items()
            ]
            lake.write_bars(pd.DataFrame(rows))

        # Act
        read = lake.read_bars(
            "ETH-USD", JAN, JAN + timedelta(days=1), as_of=as_of, granularity="1h"
        )

    # Assert
    assert (read["available_at"] <= as_of).all()
    assert dict(zip(read["open_time"], read["close"], strict=True)) == expected


@FAST
@given(
    periods=st.integers(1, 80),
    cuts=st.lists(st.integers(0, 80), max_size=4),
    order=st.permutations(range(5)),
    repeat=st.booleans(),
    granularity=st.sampled_from([Granularity.H1, Granularity.D1, Granularity.H6]),
)
def test_write_bars_any_split_order_or_repeat_gives_the_same_lake(
    periods: int, cuts: list[int], order: list[int], repeat: bool, granularity: Granularity
) -> None:
    # Arrange
    bars = make_bars(
        granularity=granularity, periods=periods, start=datetime(2023, 12, 20, tzinfo=UTC)
    )
    edges = sorted({0, periods, *(min(c, periods) for c in cuts)})
    chunks = [bars.iloc[a:b] for a, b in itertools.pairwise(edges)]
    chunks = [chunks[i] for i in order if i < len(chunks)]
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        once, pieces = Lake(Path(a)), Lake(Path(b))
        once.write_bars(bars, ingested_at=T_INGEST)

        # Act
        for chunk in chunks + (chunks if repeat else []):
            pieces.write_bars(chunk, ingested_at=T_INGEST)
        again = pieces.write_bars(bars, ingested_at=T_INGEST)
        read = pieces.read_bars(
            "BTC-USD", datetime(2023, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC),
            granularity=granularity,
        )  # fmt: skip

        # Assert
        assert (again.new, again.replaced, again.partitions) == (0, 0, ())
        assert files_of(Path(a)) == files_of(Path(b))
        pd.testing.assert_frame_equal(read, bars)


# -- reads --------------------------------------------------------------------------------


def test_read_bars_range_is_half_open(tmp_path: Path) -> None:
    # Arrange
    lake = Lake(tmp_path / "lake")
    lake.write_bars(make_bars(periods=10))
    start, end = JAN + timedelta(hours=2), JAN + timedelta(hours=5)

    # Act
    read = lake.read_bars("BTC-USD", start, end, granularity=Granularity.H1)

    # Assert
    assert read["open_time"].tolist() == [
        pd.Timestamp(start + timedelta(hours=h)) for h in range(3)
    ]


def test_read_bars_opens_only_partitions_overlapping_the_range(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Arrange: three months of BTC and ETH; the read asks for BTC in February only.
    lake = Lake(tmp_path / "lake")
    lake.write_bars(pd.concat([make_bars(periods=24 * 90), make_bars("ETH-USD", periods=24 * 90)]))
    opened: list[Path] = []
    real = lake_query.query_latest_bars

    def spy(files, start, end, as_of):  # type: ignore[no-untyped-def]
        opened.extend(files)
        return real(files, start, end, as_of)

    monkeypatch.setattr(lake_query, "query_latest_bars", spy)

    # Act
    read = lake.read_bars(
        "BTC-USD",
        datetime(2024, 2, 3, tzinfo=UTC),
        datetime(2024, 2, 10, tzinfo=UTC),
        granularity="1h",
    )

    # Assert
    assert [p.relative_to(lake.root).as_posix() for p in opened] == [
        "zone=clean/asset_class=crypto/symbol=BTC-USD/granularity=1h/period=2024-02/part.parquet"
    ]
    assert len(read) == 7 * 24


def test_write_bars_daily_and_hourly_partition_by_year_and_month(tmp_path: Path) -> None:
    # Arrange
    lake = Lake(tmp_path / "lake")

    # Act
    lake.write_bars(
        make_bars("AAPL", Granularity.D1, start=datetime(2023, 12, 30, tzinfo=UTC), periods=5)
    )
    lake.write_bars(make_bars("EUR-USD", Granularity.H1, periods=3))

    # Assert
    assert sorted(files_of(lake.root)) == [
        "zone=clean/asset_class=equity/symbol=AAPL/granularity=1d/period=2023/part.parquet",
        "zone=clean/asset_class=equity/symbol=AAPL/granularity=1d/period=2024/part.parquet",
        "zone=clean/asset_class=fx/symbol=EUR-USD/granularity=1h/period=2024-01/part.parquet",
    ]


def test_symbols_and_coverage_describe_each_zone(tmp_path: Path) -> None:
    # Arrange
    lake = Lake(tmp_path / "lake")
    lake.write_bars(make_bars("ETH-USD", periods=30))
    lake.write_bars(make_bars("AAPL", Granularity.D1, periods=3), zone=Zone.RAW)

    # Act
    clean, raw = lake.coverage(Zone.CLEAN), lake.coverage("raw")

    # Assert
    assert lake.symbols() == ["ETH-USD"] and lake.symbols(Zone.RAW) == ["AAPL"]
    assert [(c.symbol, c.asset_class, c.granularity, c.bars) for c in clean] == [
        ("ETH-USD", "crypto", "1h", 30)
    ]
    assert clean[0].first_open_time == JAN
    assert clean[0].last_open_time == JAN + timedelta(hours=29)
    assert [(c.symbol, c.granularity, c.bars) for c in raw] == [("AAPL", "1d", 3)]
    assert Lake(tmp_path / "empty").coverage() == []


# -- bad input writes nothing -------------------------------------------------------------


def test_write_bars_unknown_zone_raises_and_writes_nothing(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")

    with pytest.raises(InvalidInputError, match="unknown lake zone 'gold'"):
        lake.write_bars(make_bars(), zone="gold")

    assert not (tmp_path / "lake").exists()


def test_write_bars_naive_times_raise_and_write_nothing(tmp_path: Path) -> None:
    # Arrange
    lake = Lake(tmp_path / "lake")
    naive = make_bars()
    naive["available_at"] = naive["available_at"].dt.tz_localize(None)

    # Act / Assert
    with pytest.raises(InvalidInputError, match="time-zone aware"):
        lake.write_bars(naive)
    with pytest.raises(InvalidInputError, match="time-zone aware"):
        lake.write_bars(make_bars(), ingested_at=NAIVE)
    assert files_of(tmp_path) == {}


def test_write_bars_unknown_symbol_in_mixed_frame_writes_nothing(tmp_path: Path) -> None:
    # Arrange: the valid symbol sorts first, so a lazy writer would already have stored it.
    lake = Lake(tmp_path / "lake")
    bad = make_bars("BTC-USD", periods=3).assign(symbol="ZZZ-USD")
    frame = pd.concat([make_bars("AAPL", periods=3), bad])

    # Act / Assert
    with pytest.raises(UnknownSymbolError, match="ZZZ-USD"):
        lake.write_bars(frame)
    assert files_of(tmp_path) == {}


def test_write_bars_conflicting_rows_in_one_batch_raise_and_write_nothing(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    bars = make_bars(periods=3)
    clash = pd.concat([bars, corrected(bars.iloc[:1], delay=timedelta(0))])

    with pytest.raises(InvalidInputError, match="different values for the same version"):
        lake.write_bars(clash)

    assert files_of(tmp_path) == {}


def test_write_bars_to_quarantine_without_reason_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="write_quarantine"):
        Lake(tmp_path).write_bars(make_bars(), zone=Zone.QUARANTINE)


@pytest.mark.parametrize(
    ("start", "end", "as_of", "message"),
    [
        (NAIVE, JAN + timedelta(days=1), None, "start must be time-zone aware"),
        (JAN, NAIVE + timedelta(days=1), None, "end must be time-zone aware"),
        (JAN, JAN + timedelta(days=1), NAIVE, "as_of must be"),
        (JAN + timedelta(days=1), JAN, None, "empty or reversed"),
        (JAN, JAN, None, "empty or reversed"),
    ],
)
def test_read_bars_naive_or_reversed_range_raises_invalid_date_range(
    tmp_path: Path, start: datetime, end: datetime, as_of: datetime | None, message: str
) -> None:
    with pytest.raises(InvalidDateRangeError, match=message):
        Lake(tmp_path).read_bars("BTC-USD", start, end, as_of=as_of)


def test_read_bars_unknown_zone_raises_naming_choices(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="raw, clean, quarantine"):
        Lake(tmp_path).read_bars("BTC-USD", JAN, JAN + timedelta(days=1), zone="bronze")


# -- crash safety -------------------------------------------------------------------------

_WRITER = """
import sys
from datetime import datetime
from pathlib import Path
import pandas as pd
from quantdesk.data.lake import Lake
frame = pd.read_parquet(sys.argv[1])
lake = Lake(Path(sys.argv[2]))
print("started", flush=True)
lake.write_bars(frame, ingested_at=datetime.fromisoformat(sys.argv[3]))
"""


def _kill_mid_write(proc: subprocess.Popen[bytes], parts: dict[Path, int], root: Path) -> None:
    """SIGKILL the writer once >= 3 partitions are committed and a temp file is on disk.

    The state is checked again under SIGSTOP, so the kill lands exactly in the state seen.
    """

    def mid_write() -> bool:
        committed = sum(path.stat().st_ino != inode for path, inode in parts.items())
        return committed >= 3 and bool(temp_litter(root))

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the writer finished before it could be killed"
        if mid_write():
            os.kill(proc.pid, signal.SIGSTOP)
            if mid_write():
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                return
            os.kill(proc.pid, signal.SIGCONT)
        time.sleep(0.005)
    proc.kill()
    pytest.fail("the writer never reached the middle of its write")


def test_write_bars_killed_mid_write_keeps_each_partition_old_or_new_and_rerun_completes(
    tmp_path: Path,
) -> None:
    # Arrange: a year of hourly bars for three symbols (36 partitions), then a delivery that
    # corrects every bar, so every partition has a distinct old and new content.
    root = tmp_path / "lake"
    year = datetime(2023, 1, 1, tzinfo=UTC)
    old = pd.concat(
        [
            make_bars(s, start=year, periods=24 * 365, seed=i)
            for i, s in enumerate(("BTC-USD", "ETH-USD", "EUR-USD"))
        ]
    )
    Lake(root).write_bars(old, ingested_at=T_INGEST)
    incoming = corrected(old, delay=timedelta(days=3))
    incoming_file = tmp_path / "incoming.parquet"
    incoming.to_parquet(incoming_file)
    fixed_at = T_INGEST + timedelta(days=1)
    reference = tmp_path / "reference"
    shutil.copytree(root, reference)
    Lake(reference).write_bars(incoming, ingested_at=fixed_at)
    old_tables = {p.relative_to(root): pq.read_table(p) for p in root.rglob("part.parquet")}
    new_tables = {
        p.relative_to(reference): pq.read_table(p) for p in reference.rglob("part.parquet")
    }
    inodes = {root / rel: (root / rel).stat().st_ino for rel in old_tables}
    assert len(old_tables) == 36

    # Act: a real writer process, paused before each commit by the test hook, killed mid-way.
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(incoming_file), str(root), fixed_at.isoformat()],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, PAUSE_ENV: "0.2"},
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == b"started"
    _kill_mid_write(proc, inodes, root)
    litter = temp_litter(root)
    state = {rel: pq.read_table(root / rel) for rel in old_tables}
    visible = Lake(root).read_bars(
        ["BTC-USD", "ETH-USD", "EUR-USD"], year, datetime(2024, 1, 1, tzinfo=UTC), granularity="1h"
    )
    rerun = Lake(root).write_bars(pd.read_parquet(incoming_file), ingested_at=fixed_at)

    # Assert: killed mid-write, every partition is whole and either old or new...
    assert proc.returncode == -signal.SIGKILL
    assert litter, "the kill should have left a temp file behind"
    is_new = {rel: t.equals(new_tables[rel]) for rel, t in state.items()}
    assert all(is_new[rel] or t.equals(old_tables[rel]) for rel, t in state.items())
    assert 3 <= sum(is_new.values()) < len(is_new)
    # ...readers ignore the litter and see one version of every bar...
    assert len(visible) == len(old)
    assert not visible.duplicated(["symbol", "open_time"]).any()
    # ...and the rerun finishes the job, sweeps the litter and matches an uninterrupted write.
    assert rerun.new == len(old) - sum(len(t) // 2 for rel, t in state.items() if is_new[rel])
    assert not temp_litter(root)
    assert files_of(root) == files_of(reference)


def test_write_bars_sweeps_temp_litter_and_readers_ignore_it(tmp_path: Path) -> None:
    # Arrange: a crashed writer's temp file next to a good partition.
    lake = Lake(tmp_path / "lake")
    lake.write_bars(make_bars(periods=5))
    [part] = list(lake.root.rglob("part.parquet"))
    litter = part.with_name(".part.parquet.999.deadbeef.tmp")
    litter.write_bytes(b"half a parquet file")

    # Act
    read = lake.read_bars("BTC-USD", JAN, JAN + timedelta(days=1), granularity="1h")
    lake.write_bars(make_bars("ETH-USD", periods=2))

    # Assert
    assert len(read) == 5
    assert not litter.exists()


# -- retention and quarantine --------------------------------------------------------------


def test_apply_retention_dry_run_lists_expired_and_real_run_deletes_them(tmp_path: Path) -> None:
    # Arrange: raw Jan-Mar 2024, clean Jan-Mar 2024; on 2024-04-15 with 30 days raw retention,
    # raw January and February have ended before the cutoff (2024-03-16); clean is kept.
    lake = Lake(tmp_path / "lake")
    three_months = make_bars(periods=24 * 91)
    lake.write_bars(three_months, zone=Zone.RAW)
    lake.write_bars(three_months, zone=Zone.CLEAN)
    now = datetime(2024, 4, 15, tzinfo=UTC)
    expected = (
        "zone=raw/asset_class=crypto/symbol=BTC-USD/granularity=1h/period=2024-01",
        "zone=raw/asset_class=crypto/symbol=BTC-USD/granularity=1h/period=2024-02",
    )

    # Act
    dry = lake.apply_retention(now=now, dry_run=True)
    files_after_dry = files_of(lake.root)
    real = lake.apply_retention(now=now)

    # Assert
    assert dry.deleted == expected and real.deleted == expected
    assert len(files_after_dry) == 6
    assert [p.period for p in lake.partitions(Zone.RAW)] == ["2024-03"]
    assert [p.period for p in lake.partitions(Zone.CLEAN)] == ["2024-01", "2024-02", "2024-03"]
    assert lake.apply_retention(now=now).deleted == ()


def test_write_quarantine_stores_bars_with_reason_and_report(tmp_path: Path) -> None:
    # Arrange
    lake = Lake(tmp_path / "lake")
    bars = make_bars(periods=4)
    at = datetime(2024, 3, 5, 12, tzinfo=UTC)
    report = {"success": False, "failed": ["high >= low"], "checked_at": at}

    # Act
    batch = lake.write_quarantine(bars, "OHLC inconsistent", report, quarantined_at=at)
    stored, sidecar = lake.read_quarantine(batch.batch_id)

    # Assert
    assert [b.batch_id for b in lake.list_quarantine()] == [batch.batch_id]
    assert batch.path.as_posix().startswith(
        "zone=quarantine/date=2024-03-05/batch=20240305T120000Z-"
    )
    assert (batch.reason, batch.rows, batch.symbols) == ("OHLC inconsistent", 4, ("BTC-USD",))
    assert sidecar["report"]["failed"] == ["high >= low"]
    assert sidecar["reason"] == "OHLC inconsistent"
    pd.testing.assert_frame_equal(stored.drop(columns="ingested_at"), bars)
    assert lake.symbols(Zone.QUARANTINE) == ["BTC-USD"]
    assert lake.symbols(Zone.CLEAN) == []


def test_write_quarantine_without_reason_raises_and_writes_nothing(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")

    with pytest.raises(InvalidInputError, match="non-empty reason"):
        lake.write_quarantine(make_bars(), "  ", {})

    assert lake.list_quarantine() == []
    assert files_of(tmp_path) == {}


def test_apply_retention_quarantine_deletes_days_older_than_keep(tmp_path: Path) -> None:
    # Arrange
    lake = Lake(tmp_path / "lake")
    lake.write_quarantine(make_bars(), "old", {}, quarantined_at=datetime(2024, 1, 1, tzinfo=UTC))
    young = lake.write_quarantine(
        make_bars(), "new", {}, quarantined_at=datetime(2024, 3, 30, tzinfo=UTC)
    )

    # Act
    summary = lake.apply_retention(
        {Zone.QUARANTINE: timedelta(days=90)}, now=datetime(2024, 4, 1, tzinfo=UTC)
    )

    # Assert
    assert summary.deleted == ("zone=quarantine/date=2024-01-01",)
    assert [b.batch_id for b in lake.list_quarantine()] == [young.batch_id]
