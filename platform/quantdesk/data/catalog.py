"""The instrument catalogue: every symbol the platform knows, with its class, venue and calendar.

One table instead of scattered rules, so an unknown symbol fails the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable

from quantdesk.domain import (
    AssetClass,
    Instrument,
    TradingCalendar,
    UnknownSymbolError,
    Venue,
)


def _equity(symbol: str, name: str, venue: Venue = Venue.ROBINHOOD) -> Instrument:
    return Instrument(
        symbol=symbol, asset_class=AssetClass.EQUITY, venue=venue, quote_currency="USD",
        tick_size=0.01, lot_size=1.0, calendar=TradingCalendar.NYSE, name=name,
    )  # fmt: skip


def _fx(symbol: str, name: str, tick: float = 0.00001) -> Instrument:
    return Instrument(
        symbol=symbol, asset_class=AssetClass.FX, venue=Venue.OANDA,
        quote_currency=symbol.split("-")[1], tick_size=tick, lot_size=1.0,
        calendar=TradingCalendar.FX_24_5, name=name,
    )  # fmt: skip


def _crypto(symbol: str, name: str, tick: float, lot: float) -> Instrument:
    return Instrument(
        symbol=symbol, asset_class=AssetClass.CRYPTO, venue=Venue.COINBASE,
        quote_currency=symbol.split("-")[1], tick_size=tick, lot_size=lot,
        calendar=TradingCalendar.CRYPTO_24_7, name=name,
    )  # fmt: skip


# Indices are not tradable themselves; they are modelled as equities on the NYSE calendar
# (the way one trades them is through an index fund) and serve as benchmarks.
INSTRUMENTS: dict[str, Instrument] = {
    i.symbol: i
    for i in (
        _equity("SPX", "S&P 500 index", Venue.BUNDLED),
        _equity("NDX", "NASDAQ Composite index", Venue.BUNDLED),
        _equity("AAPL", "Apple Inc."),
        _equity("MSFT", "Microsoft Corp."),
        _equity("GOOGL", "Alphabet Inc. class A"),
        _equity("IBM", "International Business Machines"),
        _equity("AMZN", "Amazon.com Inc."),
        _equity("SPY", "SPDR S&P 500 ETF"),
        _fx("EUR-USD", "Euro / US dollar"),
        _fx("GBP-USD", "British pound / US dollar"),
        _fx("USD-JPY", "US dollar / Japanese yen", tick=0.001),
        _fx("AUD-USD", "Australian dollar / US dollar"),
        _fx("USD-CHF", "US dollar / Swiss franc"),
        _crypto("BTC-USD", "Bitcoin", tick=0.01, lot=0.00000001),
        _crypto("ETH-USD", "Ether", tick=0.01, lot=0.00000001),
        _crypto("SOL-USD", "Solana", tick=0.01, lot=0.00000001),
    )
}


def get_instrument(symbol: str) -> Instrument:
    """The catalogue entry for ``symbol``; raises naming the symbol and what is known."""
    try:
        return INSTRUMENTS[symbol]
    except KeyError:
        known = ", ".join(sorted(INSTRUMENTS))
        raise UnknownSymbolError(f"unknown symbol {symbol!r}; known symbols: {known}") from None


def get_instruments(symbols: Iterable[str]) -> list[Instrument]:
    return [get_instrument(s) for s in symbols]


def by_asset_class(asset_class: AssetClass, symbols: Iterable[str]) -> list[Instrument]:
    return [i for i in get_instruments(symbols) if i.asset_class is asset_class]
