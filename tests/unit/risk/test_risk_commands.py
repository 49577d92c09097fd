"""``quantdesk risk report`` and the kill-switch commands over a synthetic clean lake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quantdesk.cli import app
from quantdesk.store import OperationalStore
from tests.unit.portfolio.synthetic_lake import SYMBOLS, write_synthetic_lake

RUNNER = CliRunner()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("home")
    write_synthetic_lake(path)
    return path


def run(home: Path, *args: str) -> dict[str, object]:
    result = RUNNER.invoke(app, list(args), env={"QUANTDESK_HOME": str(home)})
    assert result.exit_code == 0, result.output
    document: dict[str, object] = json.loads(result.output)
    return document


def test_risk_report_equal_weight_gives_three_methods_and_stress(home: Path) -> None:
    document = run(home, "risk", "report", "--json")

    portfolio = document["portfolio"]
    assert isinstance(portfolio, dict) and portfolio["source"] == "equal weight"
    assert portfolio["weights"] == {s: pytest.approx(0.25) for s in SYMBOLS}
    rows = document["var"]
    assert isinstance(rows, list)
    assert [r["method"] for r in rows] == ["historical", "parametric", "monte_carlo"]
    assert all(r["expected_shortfall"] >= r["var"] > 0 for r in rows)
    stress = document["stress"]
    assert isinstance(stress, list)
    assert {"gfc_2008", "worst_5_periods"} <= {s["scenario"] for s in stress}


def test_risk_report_positions_are_valued_at_last_close(home: Path, tmp_path: Path) -> None:
    book = tmp_path / "book.json"
    book.write_text(json.dumps({"AAPL": 100, "BTC-USD": 1}))

    document = run(home, "risk", "report", "--positions", str(book), "--json")

    portfolio = document["portfolio"]
    assert isinstance(portfolio, dict) and portfolio["source"] == "positions"
    assert set(portfolio["weights"]) == {"AAPL", "BTC-USD"}
    assert sum(portfolio["weights"].values()) == pytest.approx(1.0)


def test_risk_halt_then_resume_round_trips_the_switch(tmp_path: Path) -> None:
    halted = run(tmp_path, "risk", "halt", "--reason", "drill", "--actor", "ops")
    seen = run(tmp_path, "risk", "status")
    resumed = run(tmp_path, "risk", "resume", "--reason", "drill over")

    assert halted["state"] == seen["state"] == "halted" and seen["actor"] == "ops"
    assert resumed["state"] == "active"
    with OperationalStore(f"sqlite:///{tmp_path / 'quantdesk.db'}") as store:
        events = store.list_audit_events(subject="kill_switch")
    assert [(e.payload["from"], e.payload["to"]) for e in events] == [
        ("active", "halted"),
        ("halted", "active"),
    ]
