"""Pre-trade checks for weight-based callers (vectorized backtests, the rebalancer).

A target weight vector becomes one market order per symbol, each order is checked in turn
by :func:`~quantdesk.risk.pretrade.check_order` against the state the earlier approved
orders left behind, and a denied symbol keeps its current weight. So a backtest that trades
weights faces exactly the checks live orders face.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from quantdesk.domain.errors import InvalidInputError
from quantdesk.domain.trading import Order, Side
from quantdesk.risk.limits import RiskLimits
from quantdesk.risk.pretrade import (
    AccountState,
    RiskVerdict,
    check_order,
    record_acceptance,
    record_fill,
)


@dataclass(frozen=True, slots=True)
class GatedWeights:
    """Weights after the checks, the verdict per traded symbol, and the resulting state."""

    weights: Mapping[str, float]
    verdicts: Mapping[str, RiskVerdict]
    state: AccountState
    denied: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", MappingProxyType(dict(self.weights)))
        object.__setattr__(self, "verdicts", MappingProxyType(dict(self.verdicts)))


def gate_target_weights(
    target: Mapping[str, float],
    state: AccountState,
    limits: RiskLimits,
    at: datetime,
    id_prefix: str,
    *,
    min_quantity: float = 1e-9,
) -> GatedWeights:
    """Check the trades from the state's current weights to ``target``; fills at last price.

    Trades that shrink positions are checked first, so a rebalance that must free room
    (gross, net) before adding elsewhere is not refused for its own order of symbols.
    """
    if state.equity <= 0:
        raise InvalidInputError(f"cannot gate weights at equity {state.equity}")
    symbols = sorted(set(target) | set(state.positions))
    trades: list[tuple[str, float]] = []
    for symbol in symbols:
        price = state.last_prices.get(symbol)
        if price is None:
            raise InvalidInputError(f"no last price for {symbol}")
        wanted = target.get(symbol, 0.0) * state.equity / price
        delta = wanted - state.position(symbol)
        if abs(delta) > min_quantity:
            trades.append((symbol, delta))
    trades.sort(key=lambda t: (abs(state.position(t[0]) + t[1]) >= abs(state.position(t[0])), t[0]))
    verdicts: dict[str, RiskVerdict] = {}
    denied: list[str] = []
    for symbol, delta in trades:
        order = Order(
            client_order_id=f"{id_prefix}-{symbol}",
            symbol=symbol,
            side=Side.BUY if delta > 0 else Side.SELL,
            quantity=abs(delta),
            created_at=at,
        )
        verdict = check_order(order, state, limits)
        verdicts[symbol] = verdict
        if verdict:
            state = record_fill(record_acceptance(state, order), symbol, delta)
        else:
            denied.append(symbol)
    weights = {s: q * state.last_prices[s] / state.equity for s, q in state.positions.items() if q}
    return GatedWeights(weights, verdicts, state, tuple(denied))
