"""Trading values: model signals, decisions, orders, positions and risk limits."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from quantdesk.domain.errors import InvalidInputError
from quantdesk.domain.symbols import validate_canonical_symbol
from quantdesk.domain.timeutil import require_utc

_CLIENT_ORDER_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def _finite(value: float, what: str) -> float:
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInputError(f"{what} must be a finite number, got {value!r}")
    return float(value)


def _frozen_mapping(value: Mapping[str, object]) -> Mapping[str, object]:
    return MappingProxyType(dict(value))


class Direction(StrEnum):
    DOWN = "down"
    FLAT = "flat"
    UP = "up"


@dataclass(frozen=True, slots=True)
class Signal:
    """A model's view of one instrument at one time: class probabilities and expected return."""

    symbol: str
    as_of: datetime
    model_name: str
    model_version: str
    horizon_bars: int
    prob_down: float
    prob_flat: float
    prob_up: float
    expected_return: float
    uncertainty: float = 0.0

    def __post_init__(self) -> None:
        validate_canonical_symbol(self.symbol)
        object.__setattr__(self, "as_of", require_utc(self.as_of, "as_of"))
        if self.horizon_bars < 1:
            raise InvalidInputError("horizon_bars must be >= 1")
        probs = [
            _finite(p, name)
            for p, name in (
                (self.prob_down, "prob_down"),
                (self.prob_flat, "prob_flat"),
                (self.prob_up, "prob_up"),
            )
        ]
        if any(p < 0 or p > 1 for p in probs) or not math.isclose(sum(probs), 1.0, abs_tol=1e-6):
            raise InvalidInputError(f"class probabilities must be in [0, 1] and sum to 1: {probs}")
        _finite(self.expected_return, "expected_return")
        if _finite(self.uncertainty, "uncertainty") < 0:
            raise InvalidInputError("uncertainty must be >= 0")

    @property
    def direction(self) -> Direction:
        probs = {Direction.DOWN: self.prob_down, Direction.FLAT: self.prob_flat}
        probs[Direction.UP] = self.prob_up
        return max(probs, key=lambda d: probs[d])

    @property
    def confidence(self) -> float:
        return max(self.prob_down, self.prob_flat, self.prob_up)


@dataclass(frozen=True, slots=True)
class Decision:
    """A target position with everything needed to explain and audit it later."""

    decision_id: str
    symbol: str
    as_of: datetime
    target_weight: float
    reasons: tuple[str, ...]
    contributions: Mapping[str, float] = field(default_factory=dict)
    model_versions: Mapping[str, str] = field(default_factory=dict)
    feature_hash: str = ""

    def __post_init__(self) -> None:
        if not self.decision_id:
            raise InvalidInputError("decision_id must not be empty")
        validate_canonical_symbol(self.symbol)
        object.__setattr__(self, "as_of", require_utc(self.as_of, "as_of"))
        _finite(self.target_weight, "target_weight")
        object.__setattr__(self, "reasons", tuple(self.reasons))
        if not self.reasons:
            raise InvalidInputError("a decision must carry at least one reason")
        contributions = {k: _finite(v, f"contribution {k}") for k, v in self.contributions.items()}
        object.__setattr__(self, "contributions", _frozen_mapping(contributions))
        object.__setattr__(self, "model_versions", _frozen_mapping(self.model_versions))

    def __hash__(self) -> int:
        return hash((self.decision_id, self.symbol, self.as_of, self.target_weight))


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"


class TimeInForce(StrEnum):
    DAY = "day"
    GTC = "gtc"
    IOC = "ioc"


@dataclass(frozen=True, slots=True)
class Order:
    """An order request. ``client_order_id`` is ours and makes submissions idempotent."""

    client_order_id: str
    symbol: str
    side: Side
    quantity: float
    created_at: datetime
    order_type: OrderType = OrderType.MARKET
    limit_price: float | None = None
    time_in_force: TimeInForce = TimeInForce.DAY
    decision_id: str | None = None

    def __post_init__(self) -> None:
        if not _CLIENT_ORDER_ID.match(self.client_order_id):
            raise InvalidInputError(
                f"client_order_id {self.client_order_id!r} must be 1-64 of [A-Za-z0-9_.:-]"
            )
        validate_canonical_symbol(self.symbol)
        object.__setattr__(self, "side", Side(self.side))
        object.__setattr__(self, "order_type", OrderType(self.order_type))
        object.__setattr__(self, "time_in_force", TimeInForce(self.time_in_force))
        object.__setattr__(self, "created_at", require_utc(self.created_at, "created_at"))
        if _finite(self.quantity, "quantity") <= 0:
            raise InvalidInputError(f"quantity must be > 0, got {self.quantity}")
        if self.order_type is OrderType.LIMIT:
            if self.limit_price is None or _finite(self.limit_price, "limit_price") <= 0:
                raise InvalidInputError("a limit order needs a positive limit_price")
        elif self.limit_price is not None:
            raise InvalidInputError("a market order must not carry a limit_price")

    @property
    def signed_quantity(self) -> float:
        return self.quantity if self.side is Side.BUY else -self.quantity


@dataclass(frozen=True, slots=True)
class Position:
    """A signed holding (negative is short) at an average entry price."""

    symbol: str
    quantity: float
    average_price: float

    def __post_init__(self) -> None:
        validate_canonical_symbol(self.symbol)
        _finite(self.quantity, "quantity")
        if _finite(self.average_price, "average_price") < 0:
            raise InvalidInputError("average_price must be >= 0")

    def market_value(self, price: float) -> float:
        return self.quantity * price

    def unrealized_pnl(self, price: float) -> float:
        return self.quantity * (price - self.average_price)


class LimitKind(StrEnum):
    MAX_ORDER_NOTIONAL = "max_order_notional"
    MAX_POSITION_NOTIONAL = "max_position_notional"
    MAX_GROSS_EXPOSURE = "max_gross_exposure"
    MAX_NET_EXPOSURE = "max_net_exposure"
    MAX_CONCENTRATION = "max_concentration"
    PRICE_COLLAR_BPS = "price_collar_bps"
    MAX_ORDERS_PER_MINUTE = "max_orders_per_minute"
    MAX_DAILY_LOSS = "max_daily_loss"
    MAX_DRAWDOWN = "max_drawdown"


@dataclass(frozen=True, slots=True)
class RiskLimit:
    """One limit; ``symbol`` scopes it to an instrument, ``None`` makes it portfolio-wide."""

    kind: LimitKind
    value: float
    symbol: str | None = None
    enabled: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", LimitKind(self.kind))
        if _finite(self.value, f"{self.kind} value") <= 0:
            raise InvalidInputError(f"{self.kind} must be > 0, got {self.value}")
        if self.symbol is not None:
            validate_canonical_symbol(self.symbol)
