"""What can be traded: instruments with their asset class, venue, calendar and increments."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from quantdesk.domain.errors import InvalidInputError
from quantdesk.domain.symbols import Venue, split_pair, validate_canonical_symbol


class AssetClass(StrEnum):
    EQUITY = "equity"
    FX = "fx"
    CRYPTO = "crypto"


class TradingCalendar(StrEnum):
    """When bars exist. Aggregation aligns each asset class to its calendar."""

    NYSE = "nyse"  # regular sessions Mon-Fri 09:30-16:00 America/New_York, exchange holidays
    FX_24_5 = "fx_24_5"  # Sunday 17:00 to Friday 17:00 America/New_York
    CRYPTO_24_7 = "crypto_24_7"


DEFAULT_CALENDAR: dict[AssetClass, TradingCalendar] = {
    AssetClass.EQUITY: TradingCalendar.NYSE,
    AssetClass.FX: TradingCalendar.FX_24_5,
    AssetClass.CRYPTO: TradingCalendar.CRYPTO_24_7,
}


@dataclass(frozen=True, slots=True)
class Instrument:
    """A tradable instrument in our canonical spelling."""

    symbol: str
    asset_class: AssetClass
    venue: Venue
    quote_currency: str
    tick_size: float
    lot_size: float
    calendar: TradingCalendar
    name: str = ""

    def __post_init__(self) -> None:
        validate_canonical_symbol(self.symbol)
        object.__setattr__(self, "asset_class", AssetClass(self.asset_class))
        object.__setattr__(self, "venue", Venue(self.venue))
        object.__setattr__(self, "calendar", TradingCalendar(self.calendar))
        if self.asset_class in (AssetClass.FX, AssetClass.CRYPTO):
            _, quote = split_pair(self.symbol)
            if quote != self.quote_currency:
                raise InvalidInputError(
                    f"{self.symbol}: quote currency {self.quote_currency!r} does not match "
                    f"the pair's quote {quote!r}"
                )
        elif "-" in self.symbol:
            raise InvalidInputError(f"{self.symbol}: an equity symbol cannot be a pair")
        if len(self.quote_currency) != 3 or not self.quote_currency.isupper():
            raise InvalidInputError(f"{self.symbol}: quote currency must be an ISO code")
        for field in ("tick_size", "lot_size"):
            value = getattr(self, field)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise InvalidInputError(f"{self.symbol}: {field} must be positive, got {value}")

    def round_price(self, price: float) -> float:
        """Nearest valid price on the tick grid."""
        return round(round(price / self.tick_size) * self.tick_size, 12)

    def round_quantity(self, quantity: float) -> float:
        """Quantity rounded toward zero to whole lots, so we never exceed what was sized."""
        lots = math.trunc(quantity / self.lot_size + 1e-9 * math.copysign(1, quantity))
        return round(lots * self.lot_size, 12)
