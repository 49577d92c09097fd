"""``quantdesk portfolio optimize`` over a synthetic clean lake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quantdesk.cli import app
from tests.unit.portfolio.synthetic_lake import SYMBOLS, write_synthetic_lake

RUNNER = CliRunner()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("home")
    write_synthetic_lake(path)
    return path


@pytest.mark.parametrize("method", ["mv", "minvar", "maxsharpe", "riskparity", "hrp"])
def test_portfolio_optimize_each_method_prints_weights_summing_to_one(
    home: Path, method: str
) -> None:
    result = RUNNER.invoke(
        app, ["portfolio", "optimize", "--method", method, "--max-weight", "0.6", "--json"],
        env={"QUANTDESK_HOME": str(home)},
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert set(document["weights"]) == set(SYMBOLS)
    assert sum(document["weights"].values()) == pytest.approx(1.0)
    assert document["annual_volatility"] > 0


def test_portfolio_optimize_writes_weights_file(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "weights.json"

    result = RUNNER.invoke(
        app, ["portfolio", "optimize", "--method", "hrp", "--symbols", "SPX,AAPL", "--out",
              str(out)],
        env={"QUANTDESK_HOME": str(home)},
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert set(json.loads(out.read_text())["weights"]) == {"SPX", "AAPL"}


def test_portfolio_optimize_unknown_method_is_an_input_error(home: Path) -> None:
    result = RUNNER.invoke(
        app, ["portfolio", "optimize", "--method", "magic"], env={"QUANTDESK_HOME": str(home)}
    )

    assert result.exit_code != 0
    assert "unknown method" in str(result.exception)
