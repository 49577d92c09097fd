"""End to end with ``dag.test()``: the data DAGs run for real on a temporary home.

ingest -> validate -> build features -> materialize, checked by what each run left in the
lake, the offline store and the online store; and the quality gate stopping a bad batch.
Kept small (two symbols, daily bars, a few months of the embedded window) because every
``dag.test()`` call also serializes the whole DAG folder.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pendulum
import pytest

from quantdesk.config import Settings, load_settings
from quantdesk.data.lake import Lake, Zone
from quantdesk.data.sources.source_factory import make_source
from quantdesk.domain import Granularity
from quantdesk.orchestration.task_catalog import LAKE_CLEAN, MODEL_HYBRID, MODEL_RL
from quantdesk.pipelines.market_data import ingest_market_data
from tests.dags.conftest import DAGS_FOLDER

SYMBOLS = ("SPX", "BTC-USD")
# The hour of the NYSE close on a 2012 Tuesday: SPX's daily bar and BTC's 19:00 hourly bar.
INTERVAL_END = pendulum.datetime(2012, 6, 5, 20, 5, tz="UTC")
HISTORY_START = datetime(2012, 1, 2, tzinfo=UTC)
HISTORY_END = datetime(2012, 6, 6, tzinfo=UTC)
RUN_AFTER = pendulum.datetime(2012, 6, 6, 1, tz="UTC")
DAILY_ONLY = json.dumps({"equity": ["1d"], "fx": ["1d"], "crypto": ["1d"]})

pytestmark = pytest.mark.slow  # dag.test() starts Airflow's in-process execution API


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """QUANTDESK_HOME and a two-symbol universe, set before any DAG file is parsed."""
    folder = tmp_path / "home"
    monkeypatch.setenv("QUANTDESK_HOME", str(folder))
    monkeypatch.setenv("QUANTDESK_UNIVERSE", ",".join(SYMBOLS))
    monkeypatch.setenv("QUANTDESK_ORCHESTRATION__RETRY_DELAY_SECONDS", "0.1")
    monkeypatch.setenv("QUANTDESK_ORCHESTRATION__MAX_RETRY_DELAY_SECONDS", "0.2")
    yield folder


@pytest.fixture
def daily_history(home: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Five months of embedded daily bars in the raw zone, all inside the validated window."""
    monkeypatch.setenv("QUANTDESK_INGEST__GRANULARITIES", DAILY_ONLY)
    monkeypatch.setenv("QUANTDESK_INGEST__VALIDATE_LOOKBACK_DAYS", "200")
    settings = load_settings()
    for asset_class in ("equity", "crypto"):
        symbol = SYMBOLS[0] if asset_class == "equity" else SYMBOLS[1]
        ingest_market_data(
            settings, source=settings.ingest.sources[asset_class], symbols=[symbol],
            granularity=Granularity.D1, start=HISTORY_START, end=HISTORY_END,
        )  # fmt: skip
    return settings


def load_dag(dag_id: str) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_FOLDER / f"{dag_id}.py")).dags[dag_id]


def returned(run: Any, task_id: str) -> list[dict[str, Any]]:
    """The summaries the task's instances (all map indexes) pushed to XCom."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = (
            session.query(XComModel)
            .filter_by(dag_id=run.dag_id, run_id=run.run_id, task_id=task_id, key="return_value")
            .order_by(XComModel.map_index)
            .all()
        )
        values = [row.value for row in rows]
    return [json.loads(v) if isinstance(v, str) else v for v in values]


def asset_events(asset_name: str, run: Any) -> int:
    """How many asset events ``run`` recorded for the asset ``asset_name``."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        return (
            session.query(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .filter(AssetModel.name == asset_name, AssetEvent.source_run_id == run.run_id)
            .count()
        )


def consumers(asset_name: str) -> set[str]:
    """The DAGs Airflow will trigger on ``asset_name``'s events (those not paused).

    Read from the references the scheduler uses; DAGs in a test DB are created paused, so
    nothing is actually queued here.
    """
    from airflow.models.asset import AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        asset = session.query(AssetModel).filter_by(name=asset_name).one()
        return {reference.dag_id for reference in asset.scheduled_dags}


def task_states(run: Any) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in run.get_task_instances()}


def test_ingest_dag_one_interval_writes_its_bars_and_a_rerun_writes_nothing(
    airflow_db: Path, home: Path
) -> None:
    # Arrange
    dag = load_dag("ingest_market_data")
    settings = load_settings()
    expected_daily = make_source("embedded", settings).fetch_bars(
        "SPX", Granularity.D1, datetime(2012, 6, 5, tzinfo=UTC), datetime(2012, 6, 6, tzinfo=UTC)
    )

    # Act (a rerun of the same logical date clears the first run's task instances and XCom,
    # so what the first run did is read before the rerun)
    first = dag.test(logical_date=INTERVAL_END)
    first_states = task_states(first)
    first_runs = {task: returned(first, task)[0]["runs"] for task in first_states}
    second = dag.test(logical_date=INTERVAL_END)

    # Assert: the interval 19:05-20:05 UTC delivered exactly SPX's daily bar and BTC's 19:00 bar.
    assert first.state == "success" and second.state == "success"
    assert first_states == {"ingest_equity": "success", "ingest_crypto": "success"}
    lake = Lake(settings.lake_dir)
    window = (datetime(2012, 6, 1, tzinfo=UTC), datetime(2012, 6, 10, tzinfo=UTC))
    daily = lake.read_bars(SYMBOLS, *window, granularity=Granularity.D1, zone=Zone.RAW)
    hourly = lake.read_bars(SYMBOLS, *window, granularity=Granularity.H1, zone=Zone.RAW)
    assert daily["symbol"].tolist() == ["SPX"]
    assert daily["open_time"].tolist() == [pd.Timestamp("2012-06-05", tz="UTC")]
    for column in ("open", "high", "low", "close", "volume"):
        assert daily[column].iloc[0] == pytest.approx(expected_daily[column].iloc[0])
    assert hourly["symbol"].tolist() == ["BTC-USD"]
    assert hourly["open_time"].tolist() == [pd.Timestamp("2012-06-05 19:00", tz="UTC")]
    assert [(r["granularity"], r["new"]) for r in first_runs["ingest_equity"]] == [("1d", 1)]
    assert [(r["granularity"], r["new"]) for r in first_runs["ingest_crypto"]] == [("1h", 1)]
    rerun = [
        r for task in ("ingest_equity", "ingest_crypto") for r in returned(second, task)[0]["runs"]
    ]
    assert [(r["new"], r["replaced"], r["unchanged"]) for r in rerun] == [(0, 0, 1), (0, 0, 1)]


def test_validate_build_materialize_dags_fill_clean_zone_offline_and_online_stores(
    airflow_db: Path, daily_history: Settings
) -> None:
    # Arrange
    settings = daily_history
    raw = Lake(settings.lake_dir).read_bars(SYMBOLS, HISTORY_START, HISTORY_END, zone=Zone.RAW)

    # Act
    validated = load_dag("validate_market_data").test(run_after=RUN_AFTER, logical_date=None)
    built = load_dag("build_features").test(run_after=RUN_AFTER, logical_date=None)
    served = load_dag("materialize_features").test(run_after=RUN_AFTER, logical_date=None)

    # Assert
    assert [validated.state, built.state, served.state] == ["success"] * 3
    clean = Lake(settings.lake_dir).read_bars(SYMBOLS, HISTORY_START, HISTORY_END)
    assert len(clean) == len(raw) > 200
    assert set(clean["symbol"]) == set(SYMBOLS)
    assert asset_events(LAKE_CLEAN, validated) == 1
    [build] = returned(built, "build_features")
    assert sorted(build["symbols"]) == sorted(SYMBOLS) and build["rows"] > 200
    assert any(view["written"] for view in build["views"])
    assert list(settings.offline_features_dir.rglob("*.parquet"))
    [materialized] = returned(served, "materialize_features")
    assert materialized["symbols"] == sorted(SYMBOLS)
    from quantdesk.features.feast_store import open_feature_store
    from quantdesk.features.names import FEATURE_SERVICES

    online = open_feature_store(settings).online_features(
        list(SYMBOLS), "hybrid_v1", as_of=datetime.fromisoformat(materialized["end"])
    )
    assert online["symbol"].tolist() == list(SYMBOLS)
    assert online[list(FEATURE_SERVICES["hybrid_v1"])].notna().all().all()


def test_validate_dag_bad_batch_fails_quarantines_alerts_and_leaves_clean_zone_empty(
    airflow_db: Path, daily_history: Settings
) -> None:
    # Arrange: BTC's highs fall below its lows in the raw zone.
    settings = daily_history
    lake = Lake(settings.lake_dir)
    bad = lake.read_bars("BTC-USD", HISTORY_END - timedelta(days=5), HISTORY_END, zone=Zone.RAW)
    bad["high"], bad["low"] = bad["low"] * 0.9, bad["high"] * 1.1
    lake.write_bars(bad, Zone.RAW)

    # Act
    run = load_dag("validate_market_data").test(run_after=RUN_AFTER, logical_date=None)

    # Assert
    assert run.state == "failed"
    assert task_states(run) == {"validate_market_data": "failed"}
    assert asset_events(LAKE_CLEAN, run) == 0
    [quarantined] = lake.list_quarantine()  # three tries, one batch: stored once by content
    bars, sidecar = lake.read_quarantine(quarantined.batch_id)
    assert set(bars["symbol"]) == {"BTC-USD"}
    assert sidecar["reason"] and sidecar["report"]["fingerprint"]
    assert lake.read_bars("BTC-USD", HISTORY_START, HISTORY_END, zone=Zone.CLEAN).empty
    assert not lake.read_bars("SPX", HISTORY_START, HISTORY_END, zone=Zone.CLEAN).empty
    outbox = (settings.home / "alerts" / "alerts.jsonl").read_text().splitlines()
    delivered = [
        (line["alert"]["source"], line["alert"]["severity"])
        for line in map(json.loads, outbox)
        if line["status"] == "delivered"
    ]
    # The gate's alert once (its repeats on retry are deduplicated), then Airflow's own.
    assert delivered == [("quality_gate", "critical"), ("airflow", "critical")]


@pytest.fixture
def clean_history(home: Path) -> Settings:
    """Nine months of embedded daily bars already in the clean zone (what training reads)."""
    settings = load_settings()
    source = make_source("embedded", settings)
    for symbol in SYMBOLS:
        bars = source.fetch_bars(
            symbol, Granularity.D1, datetime(2011, 9, 1, tzinfo=UTC), HISTORY_END
        )
        Lake(settings.lake_dir).write_bars(bars, Zone.CLEAN)
    return settings


# Just enough for one walk-forward fold of one PPO agent on a few months of daily bars.
TINY_RL = {
    "QUANTDESK_RL__AGENTS": '["ppo"]',
    "QUANTDESK_RL__SEEDS": "[0]",
    "QUANTDESK_RL__TIMESTEPS": "64",
    "QUANTDESK_RL__FOLDS": "1",
    "QUANTDESK_RL__TRAIN_SIZE": "40",
    "QUANTDESK_RL__VALIDATION_SIZE": "10",
    "QUANTDESK_RL__TRADE_SIZE": "10",
    "QUANTDESK_RL__NORMALIZE_WINDOW": "20",
    "QUANTDESK_RL__TURBULENCE_LOOKBACK": "10",
    "QUANTDESK_RL__WINDOW": "5",
    "QUANTDESK_RL__EPISODE_LENGTH": "20",
    "QUANTDESK_TORCH_THREADS": "1",
    "MLFLOW_DISABLE_TELEMETRY": "true",
}


def test_train_rl_ensemble_dag_registers_a_challenger_and_signals_backtest_and_promote(
    airflow_db: Path, clean_history: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Arrange: nine months of clean daily bars, a tiny RL configuration.
    for name, value in TINY_RL.items():
        monkeypatch.setenv(name, value)
    saturday = pendulum.datetime(2012, 6, 9, 10, tz="UTC")

    # Act
    run = load_dag("train_rl_ensemble").test(run_after=saturday, logical_date=None)

    # Assert
    assert run.state == "success"
    [summary] = returned(run, "train_rl_ensemble")
    assert summary["model_version"] == 1
    assert summary["symbols"] == list(SYMBOLS)
    report = json.loads(Path(summary["report_path"]).read_text())
    # The window ends where the clean data ends (its newest daily bar opens Tuesday 5 June),
    # not at the Saturday run: a run trains on the newest data the lake holds.
    newest_close = pendulum.datetime(2012, 6, 6, tz="UTC")
    assert report["end"] == newest_close.isoformat()
    assert report["start"] == (newest_close - timedelta(days=1825)).isoformat()
    assert asset_events(MODEL_RL, run) == 1
    assert consumers(MODEL_RL) == consumers(MODEL_HYBRID) == {"backtest_and_promote"}


# One small fold of a small network for one epoch: the wiring is under test, not the model.
TINY_HYBRID = {
    "QUANTDESK_MODELS__WINDOW": "5",
    "QUANTDESK_MODELS__N_FOLDS": "1",
    "QUANTDESK_MODELS__TEST_SIZE": "20",
    "QUANTDESK_MODELS__VALIDATION_SIZE": "10",
    "QUANTDESK_MODELS__MIN_TRAIN_SIZE": "40",
    "QUANTDESK_MODELS__MAX_EPOCHS": "1",
    "QUANTDESK_MODELS__MC_SAMPLES": "2",
    "QUANTDESK_MODELS__LSTM_HIDDEN": "4",
    "QUANTDESK_MODELS__CONV_CHANNELS": "[4, 4]",
    "QUANTDESK_TORCH_THREADS": "1",
    "MLFLOW_DISABLE_TELEMETRY": "true",
}


def test_train_hybrid_dag_registers_once_and_a_rerun_reuses_the_version(
    airflow_db: Path, clean_history: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Arrange
    for name, value in TINY_HYBRID.items():
        monkeypatch.setenv(name, value)
    dag = load_dag("train_hybrid")
    saturday = pendulum.datetime(2012, 6, 9, 6, tz="UTC")

    # Act
    first = dag.test(run_after=saturday, logical_date=None)
    [trained] = returned(first, "train_hybrid")
    first_events = asset_events(MODEL_HYBRID, first)
    again = dag.test(run_after=saturday, logical_date=None)
    [rerun] = returned(again, "train_hybrid")

    # Assert: the same window read as known then is the same training key: nothing new.
    assert first.state == again.state == "success"
    assert (trained["version"], trained["reused"], trained["folds"]) == (1, False, 1)
    assert (rerun["version"], rerun["reused"], rerun["run_id"]) == (1, True, trained["run_id"])
    assert first_events == 1
