"""The quality gate on real Great Expectations: suites per asset class, verdicts, results, docs."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from quantdesk.data.aggregator import DataAggregator, QualityThresholds
from quantdesk.data.quality import (
    GateResult,
    QualityGate,
    build_data_docs,
    load_validation_result,
    save_validation_result,
    validate_batch,
)
from quantdesk.domain import AssetClass, Granularity, InvalidInputError
from tests.unit.data.bar_frames import calendar_bars, set_bar

H1 = Granularity.H1
JUL_1 = datetime(2024, 7, 1, tzinfo=UTC)
NOW = datetime(2024, 7, 20, 12, 0, tzinfo=UTC)


def equity_batch() -> pd.DataFrame:
    return calendar_bars("AAPL", Granularity.D1, JUL_1, JUL_1 + timedelta(days=14))


def fx_batch() -> pd.DataFrame:
    return calendar_bars("EUR-USD", H1, JUL_1, JUL_1 + timedelta(days=2))


def crypto_batch() -> pd.DataFrame:
    return calendar_bars("BTC-USD", H1, JUL_1, JUL_1 + timedelta(days=2))


CLEAN = {AssetClass.EQUITY: equity_batch, AssetClass.FX: fx_batch, AssetClass.CRYPTO: crypto_batch}


@pytest.fixture(scope="module")
def gate_result_one_bad_class() -> GateResult:
    """One gate run (GE context made once per process) shared by the per-class assertions."""
    bad_crypto = crypto_batch()
    bad_crypto = set_bar(bad_crypto, 5, high=bad_crypto.low[5] * 0.98)
    return QualityGate().gate([equity_batch(), fx_batch(), bad_crypto], now=NOW)


@pytest.mark.parametrize("asset_class", list(AssetClass))
def test_validate_batch_clean_frame_passes(asset_class: AssetClass) -> None:
    outcome = validate_batch(CLEAN[asset_class](), asset_class)

    assert outcome.success, outcome.failed
    assert outcome.failed == ()
    assert outcome.result["statistics"]["unsuccessful_expectations"] == 0
    json.dumps(outcome.to_dict())


def test_validate_batch_high_below_low_fails_naming_expectation() -> None:
    frame = crypto_batch()
    frame = set_bar(frame, 3, high=frame.low[3] * 0.9)

    outcome = validate_batch(frame, AssetClass.CRYPTO)

    assert not outcome.success
    failed = {f.check: f for f in outcome.failed}
    assert failed["high_ge_low"].unexpected_count == 1
    assert failed["high_ge_low"].expectation_type == (
        "expect_column_pair_values_a_to_be_greater_than_b"
    )
    assert failed["high_ge_low"].columns == ("high", "low")


def test_validate_batch_negative_volume_fails() -> None:
    outcome = validate_batch(set_bar(fx_batch(), 2, volume=-5.0), AssetClass.FX)

    assert not outcome.success
    assert outcome.failed_checks == ("volume_non_negative",)


def test_validate_batch_fx_price_outside_band_fails() -> None:
    frame = fx_batch()
    frame = set_bar(frame, 1, open=1_100.0, high=1_100.0, low=1_100.0, close=1_100.0)

    outcome = validate_batch(frame, AssetClass.FX)

    assert {"open_in_price_band", "close_in_price_band"} <= set(outcome.failed_checks)


def test_validate_batch_symbol_of_other_class_fails() -> None:
    outcome = validate_batch(crypto_batch(), AssetClass.EQUITY)

    assert "symbol_in_asset_class" in outcome.failed_checks


def test_validate_batch_missing_column_is_input_error() -> None:
    with pytest.raises(InvalidInputError, match="volume"):
        validate_batch(crypto_batch().drop(columns="volume"), AssetClass.CRYPTO)


def test_gate_bad_class_fails_only_that_class(gate_result_one_bad_class: GateResult) -> None:
    result = gate_result_one_bad_class

    verdicts = {v.asset_class: v for v in result.verdicts}
    assert set(verdicts) == set(AssetClass)
    assert verdicts[AssetClass.EQUITY].passed
    assert verdicts[AssetClass.FX].passed
    crypto = verdicts[AssetClass.CRYPTO]
    assert not crypto.passed
    assert "high_ge_low (1 rows)" in crypto.reason
    assert not result.passed
    assert [v.asset_class for v in result.failed_batches] == [AssetClass.CRYPTO]
    assert set(result.clean_frame().symbol) == {"AAPL", "EUR-USD"}
    assert len(crypto.input_frame) == 48
    report = json.loads(json.dumps(crypto.report()))
    assert report["passed"] is False
    assert report["reason"] == crypto.reason
    assert report["validation"]["failed"][0]["check"] == "high_ge_low"


def test_gate_low_aggregator_score_fails_although_expectations_pass() -> None:
    gappy = crypto_batch().iloc[::2].reset_index(drop=True)  # every other hour missing

    result = QualityGate().gate(gappy, now=NOW)

    verdict = result.verdict(AssetClass.CRYPTO)
    assert verdict.validation.success
    assert not verdict.passed
    assert "quality score below 0.90" in verdict.reason
    assert "missing_bars" in verdict.reason


def test_gate_min_score_comes_from_thresholds() -> None:
    gappy = crypto_batch().iloc[::2].reset_index(drop=True)
    lenient = QualityGate(DataAggregator(QualityThresholds(min_score=0.0)))

    assert lenient.gate(gappy, now=NOW).passed


def test_save_validation_result_atomic_and_round_trips(
    gate_result_one_bad_class: GateResult, tmp_path: Path
) -> None:
    crypto = gate_result_one_bad_class.verdict(AssetClass.CRYPTO)
    results = tmp_path / "quality" / "results"

    path = save_validation_result(crypto, results)
    again = save_validation_result(crypto, results)

    assert path == again == results / f"{crypto.batch_id}.json"
    assert [p.name for p in results.iterdir()] == [path.name]  # no temp files left behind
    assert load_validation_result(path) == json.loads(json.dumps(crypto.report()))


def test_save_validation_result_rejects_unsafe_batch_id(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="batch_id"):
        save_validation_result({"batch_id": "../escape"}, tmp_path)


def test_build_data_docs_writes_index(
    gate_result_one_bad_class: GateResult, tmp_path: Path
) -> None:
    results = tmp_path / "results"
    for verdict in gate_result_one_bad_class.verdicts:
        save_validation_result(verdict, results)

    index = build_data_docs(results, tmp_path / "docs")

    assert index.name == "index.html"
    assert index.is_file()
    assert tmp_path / "docs" in index.parents
    html = index.read_text(encoding="utf-8")
    crypto = gate_result_one_bad_class.verdict(AssetClass.CRYPTO)
    assert crypto.batch_id in html


def test_importing_quality_module_does_not_import_great_expectations() -> None:
    code = (
        "import sys, quantdesk.data.quality; "
        "sys.exit(1 if 'great_expectations' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
