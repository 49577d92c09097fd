"""The main job (``make demo``) end to end on a small embedded universe, and its reruns."""

from __future__ import annotations

import tarfile
from datetime import UTC, date, datetime

import pytest

from quantdesk.config import Settings, load_settings
from quantdesk.data.backup import verify_backup
from quantdesk.data.lake import Lake, Zone
from quantdesk.models.registry import ModelRegistry
from quantdesk.pipelines.decide import make_decisions
from quantdesk.pipelines.main_job import MainJobReport, main_job_steps, run_main_job
from quantdesk.pipelines.market_data import ingest_market_data
from quantdesk.store.operational_store import OperationalStore

pytestmark = pytest.mark.slow

UNIVERSE = ("SPX", "BTC-USD")


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # Small models: the point is that every step runs and hands the next one what it needs.
    return load_settings(
        home=tmp_path_factory.mktemp("main-job") / "home",
        universe=UNIVERSE,
        models={"max_epochs": 2, "mc_samples": 4, "n_folds": 2, "conv_channels": (8, 8),
                "lstm_hidden": 8},
        backtest={"model_epochs": 1, "model_mc_passes": 3, "rl_timesteps": 500},
    )  # fmt: skip


Report = tuple[MainJobReport, list[str]]


@pytest.fixture(scope="module")
def report(settings: Settings) -> Report:
    seen: list[str] = []
    result = run_main_job(settings, lambda name, outcome: seen.append(name))
    return result, seen


def test_main_job_runs_every_step_in_order_and_reports_each(report: Report) -> None:
    result, seen = report

    names = [name for name, _ in main_job_steps()]
    assert [s.name for s in result.steps] == names
    assert seen == [n for n in names for _ in (0, 1)]  # once before, once after each step
    assert all(s.produced and s.seconds >= 0 for s in result.steps)


def test_main_job_leaves_every_output_where_it_says(report: Report, settings: Settings) -> None:
    home = settings.home
    lake = Lake(settings.lake_dir)

    assert {p.symbol for p in lake.partitions(Zone.CLEAN)} == set(UNIVERSE)
    assert len(list(settings.offline_features_dir.glob("*.parquet"))) == 4
    registry = ModelRegistry(settings)
    assert registry.versions(settings.models.registered_name)  # champion only if the gate agreed
    assert registry.versions(settings.rl.model_name)
    assert list((home / "reports").glob("backtest_*.html"))
    with OperationalStore.from_settings(settings) as store:
        decisions = store.list_decisions(limit=100)
    assert {d.symbol for d in decisions} == set(UNIVERSE)
    archive = next((home / "backups").glob("quantdesk-backup-*.tar.gz"))
    assert verify_backup(archive).ok
    with tarfile.open(archive) as tar:
        assert any("mlflow" in name for name in tar.getnames())
    day = decisions[-1].as_of.date().isoformat()
    assert (home / "exports" / "compliance" / day / "manifest.json").is_file()


def test_main_job_steps_rerun_change_nothing(report: Report, settings: Settings) -> None:
    decided_again = make_decisions(settings)

    again = ingest_market_data(
        settings, source="embedded",
        start=_midnight(settings.embedded.start), end=_midnight(settings.embedded.end),
    )  # fmt: skip

    assert again.new == 0 and again.replaced == 0 and again.unchanged == again.rows > 0
    assert decided_again.written == 0 and decided_again.already_stored == len(UNIVERSE)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
