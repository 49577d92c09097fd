"""Risk limits as one frozen value, built from Settings or from stored ``RiskLimit`` rows.

Notionals are in account currency; exposure, concentration, daily loss and drawdown are
fractions of equity. ``None`` means "no limit of this kind". Order-notional, position-notional,
concentration and price-collar limits may be scoped to one symbol; a scoped value overrides
the portfolio-wide one for that symbol only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from quantdesk.config import RiskSettings
from quantdesk.domain.errors import InvalidInputError
from quantdesk.domain.trading import LimitKind, RiskLimit

SYMBOL_SCOPED_KINDS: frozenset[LimitKind] = frozenset(
    {
        LimitKind.MAX_ORDER_NOTIONAL,
        LimitKind.MAX_POSITION_NOTIONAL,
        LimitKind.MAX_CONCENTRATION,
        LimitKind.PRICE_COLLAR_BPS,
    }
)

_FIELD_OF_KIND: dict[LimitKind, str] = {
    LimitKind.MAX_ORDER_NOTIONAL: "max_order_notional",
    LimitKind.MAX_POSITION_NOTIONAL: "max_position_notional",
    LimitKind.MAX_GROSS_EXPOSURE: "max_gross_exposure",
    LimitKind.MAX_NET_EXPOSURE: "max_net_exposure",
    LimitKind.MAX_CONCENTRATION: "max_concentration",
    LimitKind.PRICE_COLLAR_BPS: "price_collar_bps",
    LimitKind.MAX_ORDERS_PER_MINUTE: "max_orders_per_minute",
    LimitKind.MAX_DAILY_LOSS: "max_daily_loss",
    LimitKind.MAX_DRAWDOWN: "max_drawdown",
}


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """Every pre-trade limit; the same value drives the backtest and live checks."""

    max_order_notional: float | None = None
    max_position_notional: float | None = None
    max_gross_exposure: float | None = None
    max_net_exposure: float | None = None
    max_concentration: float | None = None
    price_collar_bps: float | None = None
    max_orders_per_minute: float | None = None
    max_daily_loss: float | None = None
    max_drawdown: float | None = None
    restricted_symbols: frozenset[str] = frozenset()
    per_symbol: Mapping[tuple[LimitKind, str], float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for kind, name in _FIELD_OF_KIND.items():
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise InvalidInputError(f"risk limit {kind.value} must be > 0, got {value}")
        for (kind, symbol), value in self.per_symbol.items():
            if kind not in SYMBOL_SCOPED_KINDS:
                raise InvalidInputError(f"risk limit {kind.value} cannot be scoped to {symbol}")
            if not value > 0:
                raise InvalidInputError(f"risk limit {kind.value} for {symbol} must be > 0")
        object.__setattr__(self, "restricted_symbols", frozenset(self.restricted_symbols))
        object.__setattr__(self, "per_symbol", MappingProxyType(dict(self.per_symbol)))

    def for_symbol(self, kind: LimitKind, symbol: str) -> float | None:
        """The limit of ``kind`` that applies to ``symbol`` (its own if scoped, else global)."""
        scoped = self.per_symbol.get((kind, symbol))
        return scoped if scoped is not None else self.portfolio(kind)

    def portfolio(self, kind: LimitKind) -> float | None:
        value: float | None = getattr(self, _FIELD_OF_KIND[kind])
        return value

    @classmethod
    def from_settings(cls, settings: RiskSettings) -> RiskLimits:
        return cls(
            max_order_notional=settings.max_order_notional,
            max_position_notional=settings.max_position_notional,
            max_gross_exposure=settings.max_gross_exposure,
            max_net_exposure=settings.max_net_exposure,
            max_concentration=settings.max_concentration,
            price_collar_bps=settings.price_collar_bps,
            max_orders_per_minute=float(settings.max_orders_per_minute),
            max_daily_loss=settings.max_daily_loss,
            max_drawdown=settings.max_drawdown,
            restricted_symbols=frozenset(settings.restricted_symbols),
        )

    def with_limits(self, limits: Iterable[RiskLimit]) -> RiskLimits:
        """These limits overlaid with ``RiskLimit`` values (disabled ones are skipped)."""
        changes: dict[str, float] = {}
        scoped = dict(self.per_symbol)
        for limit in limits:
            if not limit.enabled:
                continue
            if limit.symbol is None:
                changes[_FIELD_OF_KIND[limit.kind]] = limit.value
            elif limit.kind in SYMBOL_SCOPED_KINDS:
                scoped[(limit.kind, limit.symbol)] = limit.value
            else:
                kind = limit.kind.value
                raise InvalidInputError(f"risk limit {kind} is portfolio-wide, not per symbol")
        return replace(self, per_symbol=scoped, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_risk_limits(cls, limits: Iterable[RiskLimit]) -> RiskLimits:
        """Only the given limits; every other kind is unlimited."""
        return cls().with_limits(limits)
