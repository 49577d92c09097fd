"""Canonical symbols and their venue spellings: the one place that converts between them.

Ours are upper case: ``AAPL`` for equities and indices, ``EUR-USD`` for FX, ``BTC-USD`` for
crypto. Coinbase spells crypto the same, OANDA writes ``EUR_USD``, Robinhood plain tickers.
"""

from __future__ import annotations

import re
from enum import StrEnum

from quantdesk.domain.errors import UnknownSymbolError

_EQUITY = re.compile(r"^[A-Z][A-Z0-9.]{0,9}$")
_PAIR = re.compile(r"^[A-Z0-9]{2,10}-[A-Z]{3,5}$")


class Venue(StrEnum):
    """Where bars come from and orders would go."""

    COINBASE = "coinbase"
    OANDA = "oanda"
    ROBINHOOD = "robinhood"
    BUNDLED = "bundled"
    SYNTHETIC = "synthetic"


def validate_canonical_symbol(symbol: str) -> str:
    """Return ``symbol`` if it is in our canonical form, else raise naming it."""
    if not isinstance(symbol, str) or not (_EQUITY.match(symbol) or _PAIR.match(symbol)):
        raise UnknownSymbolError(
            f"{symbol!r} is not a canonical symbol (expected e.g. 'AAPL', 'EUR-USD', 'BTC-USD')"
        )
    return symbol


def split_pair(symbol: str) -> tuple[str, str]:
    """``BTC-USD`` -> (``BTC``, ``USD``)."""
    validate_canonical_symbol(symbol)
    if "-" not in symbol:
        raise UnknownSymbolError(f"{symbol!r} is not a currency pair")
    base, quote = symbol.split("-")
    return base, quote


def to_venue_symbol(symbol: str, venue: Venue) -> str:
    """Our symbol as the venue spells it."""
    validate_canonical_symbol(symbol)
    if venue is Venue.OANDA:
        base, quote = split_pair(symbol)
        return f"{base}_{quote}"
    if venue is Venue.ROBINHOOD and "-" in symbol:
        raise UnknownSymbolError(f"Robinhood equities have no pair symbols: {symbol!r}")
    return symbol


def from_venue_symbol(raw: str, venue: Venue) -> str:
    """The venue's spelling turned into ours; raises if it cannot be one of ours."""
    text = raw.strip().upper()
    if venue is Venue.OANDA:
        parts = text.split("_")
        if len(parts) != 2:
            raise UnknownSymbolError(f"{raw!r} is not an OANDA instrument such as 'EUR_USD'")
        text = "-".join(parts)
    return validate_canonical_symbol(text)
