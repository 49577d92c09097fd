from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quantdesk.domain import UnknownSymbolError, Venue, from_venue_symbol, to_venue_symbol
from quantdesk.domain.symbols import validate_canonical_symbol

currency = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=3)


@given(base=currency, quote=currency)
def test_oanda_pair_round_trips_through_venue_spelling(base: str, quote: str) -> None:
    ours = f"{base}-{quote}"

    venue_symbol = to_venue_symbol(ours, Venue.OANDA)

    assert venue_symbol == f"{base}_{quote}"
    assert from_venue_symbol(venue_symbol, Venue.OANDA) == ours


@pytest.mark.parametrize(
    ("ours", "venue", "theirs"),
    [
        ("BTC-USD", Venue.COINBASE, "BTC-USD"),
        ("EUR-USD", Venue.OANDA, "EUR_USD"),
        ("AAPL", Venue.ROBINHOOD, "AAPL"),
        ("BRK.B", Venue.ROBINHOOD, "BRK.B"),
    ],
)
def test_to_venue_symbol_matches_venue_spelling(ours: str, venue: Venue, theirs: str) -> None:
    assert to_venue_symbol(ours, venue) == theirs
    assert from_venue_symbol(theirs.lower(), venue) == ours


@pytest.mark.parametrize("bad", ["", "btc-usd", "BTC/USD", "EUR_USD", "A B", "TOOLONGTICKER1"])
def test_non_canonical_symbol_is_rejected_by_name(bad: str) -> None:
    with pytest.raises(UnknownSymbolError, match="canonical"):
        validate_canonical_symbol(bad)


def test_oanda_needs_a_pair() -> None:
    with pytest.raises(UnknownSymbolError, match="not a currency pair"):
        to_venue_symbol("AAPL", Venue.OANDA)
    with pytest.raises(UnknownSymbolError, match="OANDA instrument"):
        from_venue_symbol("EURUSD", Venue.OANDA)


def test_robinhood_refuses_pairs() -> None:
    with pytest.raises(UnknownSymbolError, match="Robinhood"):
        to_venue_symbol("BTC-USD", Venue.ROBINHOOD)
