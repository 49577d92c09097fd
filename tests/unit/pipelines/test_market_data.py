"""Ingest then validate one interval: raw zone, quality gate, clean zone or quarantine."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from pydantic import SecretStr

from quantdesk.config import OandaSettings, Settings, load_settings
from quantdesk.data.lake import Lake, Zone
from quantdesk.data.replay_server import start_replay_server
from quantdesk.data.sources.http_client import HttpOptions
from quantdesk.data.sources.retry import RetryPolicy
from quantdesk.domain import MalformedResponseError, MissingCredentialsError, UnknownSymbolError
from quantdesk.pipelines.market_data import ingest_market_data, validate_market_data
from tests.bar_factory import make_bars

START, END = datetime(2010, 1, 1, tzinfo=UTC), datetime(2010, 7, 1, tzinfo=UTC)
SYMBOLS = ["SPX", "AAPL", "EUR-USD", "BTC-USD"]
PAIRS = ("EUR-USD", "GBP-USD")
REPLAY_END = datetime(2024, 2, 29, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(home=tmp_path / "home", universe=SYMBOLS)


def test_ingest_then_validate_fills_raw_and_clean_and_a_rerun_changes_nothing(
    settings: Settings,
) -> None:
    # Act
    first = ingest_market_data(settings, source="embedded", start=START, end=END)
    checked = validate_market_data(settings, start=START, end=END)
    lake = Lake(settings.lake_dir)
    clean = lake.read_bars(SYMBOLS, START, END)
    again = ingest_market_data(settings, source="embedded", start=START, end=END)
    rechecked = validate_market_data(settings, start=START, end=END)

    # Assert
    assert first.new == first.rows > 0 and first.rows_by_symbol["SPX"] == 124
    assert checked.passed and {b.asset_class for b in checked.batches} == {"equity", "fx", "crypto"}
    assert len(clean) == first.rows and not clean.duplicated(["symbol", "open_time"]).any()
    assert (again.new, again.replaced, again.unchanged) == (0, 0, first.rows)
    assert rechecked.clean_new == 0 and rechecked.clean_unchanged == first.rows
    assert len(list((settings.quality_dir / "results").glob("*.json"))) == 6


def test_validate_a_corrupt_batch_goes_to_quarantine_once_and_never_to_clean(
    settings: Settings,
) -> None:
    # Arrange: real bars, then a delivery whose highs sit below the lows for one symbol.
    ingest_market_data(settings, source="embedded", symbols=["SPX", "AAPL"], start=START, end=END)
    lake = Lake(settings.lake_dir)
    raw = lake.read_bars(["AAPL"], START, END, zone=Zone.RAW)
    broken = raw.assign(
        high=raw["low"] * 0.5, available_at=raw["available_at"] + pd.Timedelta("1D")
    )
    lake.write_bars(broken, Zone.RAW)

    # Act
    result = validate_market_data(settings, symbols=["SPX", "AAPL"], start=START, end=END)
    rerun = validate_market_data(settings, symbols=["SPX", "AAPL"], start=START, end=END)

    # Assert
    assert not result.passed
    (failed,) = result.failed
    assert failed.asset_class == "equity" and "expectations failed" in failed.reason
    assert lake.read_bars(["SPX", "AAPL"], START, END).empty  # nothing reached the clean zone
    assert [b.batch_id for b in lake.list_quarantine()] == [failed.quarantine_id]
    assert rerun.failed[0].quarantine_id == failed.quarantine_id  # stored once


def test_ingest_with_an_unknown_symbol_writes_nothing(settings: Settings) -> None:
    with pytest.raises(UnknownSymbolError, match="NOPE"):
        ingest_market_data(
            settings, source="embedded", symbols=["SPX", "NOPE"], start=START, end=END
        )

    assert not settings.lake_dir.exists() or not Lake(settings.lake_dir).partitions(Zone.RAW)


def test_ingest_without_venue_credentials_names_the_variable_and_writes_nothing(
    settings: Settings,
) -> None:
    with pytest.raises(MissingCredentialsError, match="QUANTDESK_OANDA__TOKEN"):
        ingest_market_data(settings, source="oanda", symbols=["EUR-USD"], start=START, end=END)

    assert not settings.lake_dir.exists() or not Lake(settings.lake_dir).partitions(Zone.RAW)


def test_ingest_when_the_venue_answers_garbage_for_one_symbol_writes_nothing(
    tmp_path: Path,
) -> None:
    # Arrange: a replay of two FX pairs; the second request gets a malformed payload.
    start = datetime(2024, 2, 27, tzinfo=UTC)
    frame = pd.concat(
        [make_bars(s, start=start, periods=48, seed=i) for i, s in enumerate(PAIRS)],
        ignore_index=True,
    )
    with start_replay_server(frame) as server:
        settings = load_settings(
            home=tmp_path / "home",
            oanda=OandaSettings(
                base_url=server.base_url, token=SecretStr(server.credentials.oanda_token)
            ),
        )
        options = HttpOptions(retry=RetryPolicy(max_attempts=1))
        ingest_market_data(
            settings, source="oanda", symbols=["EUR-USD"], granularity="1h",
            start=start, end=REPLAY_END, options=options,
        )  # fmt: skip
        before = Lake(settings.lake_dir).read_bars(
            list(PAIRS), start, REPLAY_END, granularity="1h", zone=Zone.RAW
        )
        server.inject("oanda", "malformed_payload", times=1, after=1)

        # Act
        with pytest.raises(MalformedResponseError):
            ingest_market_data(
                settings, source="oanda", symbols=list(PAIRS), granularity="1h",
                start=start, end=REPLAY_END, options=options,
            )  # fmt: skip

    # Assert: the lake is exactly as before the failed run.
    after = Lake(settings.lake_dir).read_bars(
        list(PAIRS), start, REPLAY_END, granularity="1h", zone=Zone.RAW
    )
    pd.testing.assert_frame_equal(before, after)
    assert set(after["symbol"]) == {"EUR-USD"}
