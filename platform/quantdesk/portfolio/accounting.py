"""Position accounting: cash, signed positions at average cost, fees, realized/unrealized P&L.

The account is a frozen value; each fill returns a new one, so a backtest can keep history
without copies and live code cannot change it behind a reader's back. Invariant (checked by
the tests): ``equity(prices) == initial_cash + realized_pnl + unrealized_pnl(prices) − fees``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from quantdesk.domain.errors import InvalidInputError
from quantdesk.domain.symbols import validate_canonical_symbol
from quantdesk.domain.timeutil import require_utc
from quantdesk.domain.trading import Position


@dataclass(frozen=True, slots=True)
class Fill:
    """An execution: signed quantity (buy > 0) at a price, with the fee charged in cash."""

    symbol: str
    quantity: float
    price: float
    fee: float = 0.0
    at: datetime | None = None

    def __post_init__(self) -> None:
        validate_canonical_symbol(self.symbol)
        for name in ("quantity", "price", "fee"):
            if not math.isfinite(getattr(self, name)):
                raise InvalidInputError(f"fill {name} must be finite")
        if self.quantity == 0:
            raise InvalidInputError("a fill must have a non-zero quantity")
        if self.price <= 0 or self.fee < 0:
            raise InvalidInputError("a fill needs price > 0 and fee >= 0")
        if self.at is not None:
            object.__setattr__(self, "at", require_utc(self.at, "at"))


@dataclass(frozen=True, slots=True)
class Account:
    """Cash and positions; realized P&L is gross of fees, fees are tracked on their own."""

    initial_cash: float
    cash: float
    positions: Mapping[str, Position] = field(default_factory=dict)
    realized_pnl: float = 0.0
    fees_paid: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "positions", MappingProxyType(dict(self.positions)))

    @classmethod
    def open(cls, cash: float) -> Account:
        if not math.isfinite(cash) or cash < 0:
            raise InvalidInputError(f"opening cash must be finite and >= 0, got {cash}")
        return cls(initial_cash=cash, cash=cash)

    def quantity(self, symbol: str) -> float:
        position = self.positions.get(symbol)
        return 0.0 if position is None else position.quantity

    def apply(self, fill: Fill) -> Account:
        """The account after ``fill``: average cost on adds, realized P&L on reductions."""
        held = self.positions.get(fill.symbol)
        qty = 0.0 if held is None else held.quantity
        avg = 0.0 if held is None else held.average_price
        new_qty = qty + fill.quantity
        realized = 0.0
        if qty == 0 or qty * fill.quantity > 0:
            new_avg = (qty * avg + fill.quantity * fill.price) / new_qty
        else:
            closed = min(abs(fill.quantity), abs(qty))
            realized = closed * (fill.price - avg) * math.copysign(1.0, qty)
            crossed = abs(fill.quantity) > abs(qty)
            new_avg = fill.price if crossed else avg
        positions = dict(self.positions)
        if abs(new_qty) <= 1e-12 * max(1.0, abs(qty)):
            positions.pop(fill.symbol, None)
        else:
            positions[fill.symbol] = Position(fill.symbol, new_qty, new_avg)
        return Account(
            initial_cash=self.initial_cash,
            cash=self.cash - fill.quantity * fill.price - fill.fee,
            positions=positions,
            realized_pnl=self.realized_pnl + realized,
            fees_paid=self.fees_paid + fill.fee,
        )

    def _price(self, prices: Mapping[str, float], symbol: str) -> float:
        price = prices.get(symbol)
        if price is None or not math.isfinite(price) or price <= 0:
            raise InvalidInputError(f"no valid price to mark {symbol}")
        return float(price)

    def market_values(self, prices: Mapping[str, float]) -> dict[str, float]:
        return {s: p.market_value(self._price(prices, s)) for s, p in self.positions.items()}

    def equity(self, prices: Mapping[str, float]) -> float:
        return self.cash + sum(self.market_values(prices).values())

    def unrealized_pnl(self, prices: Mapping[str, float]) -> float:
        return sum(p.unrealized_pnl(self._price(prices, s)) for s, p in self.positions.items())

    def weights(self, prices: Mapping[str, float]) -> dict[str, float]:
        """Signed market value of each position as a fraction of equity."""
        equity = self.equity(prices)
        if equity <= 0:
            raise InvalidInputError(f"weights are undefined at equity {equity:.2f}")
        return {s: v / equity for s, v in self.market_values(prices).items()}
