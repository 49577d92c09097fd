from __future__ import annotations

import dataclasses

import pytest

from quantdesk.domain import AssetClass, Instrument, InvalidInputError, TradingCalendar, Venue


def make_instrument(**changes: object) -> Instrument:
    fields: dict[str, object] = {
        "symbol": "EUR-USD",
        "asset_class": AssetClass.FX,
        "venue": Venue.OANDA,
        "quote_currency": "USD",
        "tick_size": 0.00001,
        "lot_size": 1.0,
        "calendar": TradingCalendar.FX_24_5,
    }
    fields.update(changes)
    return Instrument(**fields)  # type: ignore[arg-type]


def test_instrument_is_frozen() -> None:
    instrument = make_instrument()

    with pytest.raises(dataclasses.FrozenInstanceError):
        instrument.symbol = "GBP-USD"  # type: ignore[misc]


def test_string_enums_are_coerced() -> None:
    instrument = make_instrument(asset_class="fx", venue="oanda", calendar="fx_24_5")

    assert instrument.asset_class is AssetClass.FX
    assert instrument.venue is Venue.OANDA


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"quote_currency": "JPY"}, "quote currency"),
        ({"tick_size": 0}, "tick_size"),
        ({"lot_size": float("nan")}, "lot_size"),
        ({"symbol": "AAPL"}, "not a currency pair"),
        ({"symbol": "AAPL-USD", "asset_class": AssetClass.EQUITY}, "cannot be a pair"),
        ({"asset_class": "bond"}, "bond"),
    ],
)
def test_invalid_instrument_is_rejected(changes: dict[str, object], message: str) -> None:
    with pytest.raises((InvalidInputError, ValueError), match=message):
        make_instrument(**changes)


def test_round_price_snaps_to_tick_and_quantity_truncates_to_lots() -> None:
    btc = make_instrument(
        symbol="BTC-USD", asset_class="crypto", venue="coinbase", tick_size=0.01,
        lot_size=0.0001, calendar="crypto_24_7",
    )  # fmt: skip

    assert btc.round_price(64123.456) == pytest.approx(64123.46)
    assert btc.round_quantity(0.12349) == pytest.approx(0.1234)
    assert btc.round_quantity(-0.12349) == pytest.approx(-0.1234)
    assert btc.round_quantity(0.3) == pytest.approx(0.3)
