"""The build step end to end: synthetic daily bars in a real lake -> offline feature files."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from quantdesk.config import Settings, load_settings
from quantdesk.data.lake import Lake
from quantdesk.data.sources.synthetic import SyntheticConfig, SyntheticSource
from quantdesk.domain import Granularity, NotFoundError
from quantdesk.features.names import FEATURE_VIEWS
from quantdesk.features.offline_store import offline_path, read_view
from quantdesk.pipelines.build_features import build_features

SYMBOLS = ("SPX", "AAPL", "BTC-USD")
START, END = datetime(2019, 1, 1, tzinfo=UTC), datetime(2019, 10, 1, tzinfo=UTC)
QUANTDESK = str(Path(sys.executable).with_name("quantdesk"))


@pytest.fixture(scope="module")
def lake_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home whose clean lake holds nine months of synthetic daily bars (SPX included)."""
    home = tmp_path_factory.mktemp("home")
    source = SyntheticSource(SyntheticConfig(symbols=SYMBOLS, first_year=2019))
    lake = Lake(home / "lake")
    for symbol in SYMBOLS:
        lake.write_bars(source.fetch_bars(symbol, Granularity.D1, START, END))
    return home


def settings_for(home: Path) -> Settings:
    return load_settings(home=home, universe=("AAPL", "BTC-USD"))


def test_build_features_fresh_store_writes_every_view_for_the_universe(lake_home: Path) -> None:
    settings = settings_for(lake_home)

    summary = build_features(settings)

    assert summary.symbols == ("AAPL", "BTC-USD") and summary.benchmark_found
    assert {v.view for v in summary.views} == set(FEATURE_VIEWS)
    technical = read_view(settings.offline_features_dir, "daily_technical")
    assert set(technical["symbol"]) == {"AAPL", "BTC-USD"}
    cross = read_view(settings.offline_features_dir, "daily_cross_asset")
    assert cross["corr_benchmark_60"].notna().sum() > 100
    assert offline_path(settings.offline_features_dir, "daily_spectral").is_file()


def test_build_features_rerun_leaves_files_byte_identical(lake_home: Path) -> None:
    settings = settings_for(lake_home)
    build_features(settings)
    before = {v: offline_path(settings.offline_features_dir, v).read_bytes() for v in FEATURE_VIEWS}

    summary = build_features(settings)

    after = {v: offline_path(settings.offline_features_dir, v).read_bytes() for v in FEATURE_VIEWS}
    assert before == after
    assert not any(v.written for v in summary.views)


def test_build_features_as_of_reads_only_what_was_known_then(
    tmp_path: Path, lake_home: Path
) -> None:
    settings = load_settings(home=tmp_path, universe=("AAPL",))
    (tmp_path / "lake").symlink_to(lake_home / "lake")
    as_of = datetime(2019, 6, 1, tzinfo=UTC)

    summary = build_features(settings, as_of=as_of)

    stored = read_view(settings.offline_features_dir, "daily_volatility")
    assert summary.last_open_time is not None and summary.last_open_time < as_of
    assert (stored["event_timestamp"] <= pd.Timestamp(as_of)).all()


def test_build_features_empty_lake_raises_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="AAPL"):
        build_features(load_settings(home=tmp_path, universe=("AAPL",)))


def run_cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUANTDESK_")}
    env["QUANTDESK_HOME"] = str(home)
    return subprocess.run(
        [QUANTDESK, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_cli_features_build_writes_store_and_bad_date_exits_2(
    tmp_path: Path, lake_home: Path
) -> None:
    (tmp_path / "lake").symlink_to(lake_home / "lake")

    ok = run_cli(
        "features", "build", "--symbols", "BTC-USD", "--start", "2019-06-01", home=tmp_path
    )
    bad = run_cli("features", "build", "--start", "June", home=tmp_path)

    assert ok.returncode == 0, ok.stderr
    assert "daily_technical" in ok.stdout
    stored = read_view(tmp_path / "features" / "offline", "daily_technical")
    assert set(stored["symbol"]) == {"BTC-USD"}
    assert stored["event_timestamp"].min() >= pd.Timestamp("2019-06-01", tz="UTC")
    assert bad.returncode == 2 and "--start" in bad.stderr
