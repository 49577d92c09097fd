"""Turn target weights into trades that respect frictions: minimum size, turnover, costs.

Steps, in order: (1) the weight change per symbol; (2) cost hurdle: when expected returns
are given, a trade that adds exposure is kept only if its expected gain ``Δw·μ`` beats
``cost_hurdle_multiple`` times its cost ``|Δw|·rate`` (trades that shrink a position are
never blocked by the hurdle); (3) trades below ``min_trade_weight`` are dropped; (4) if the
remaining turnover ``Σ|Δw|`` exceeds ``max_turnover`` every trade is scaled down by the same
factor, then step 3 runs again. Costs come from the shared backtest cost model, so the plan's
estimated cost is what the backtest would charge.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

import numpy as np

from quantdesk.backtest.costs import CostModel
from quantdesk.config import PortfolioSettings
from quantdesk.domain.errors import InvalidInputError
from quantdesk.domain.trading import Order, Side


@dataclass(frozen=True, slots=True)
class RebalancePlan:
    """The trades to make (weight changes), what was skipped and why, turnover and cost."""

    trades: Mapping[str, float]
    weights_after: Mapping[str, float]
    skipped: Mapping[str, str]
    turnover: float
    estimated_cost: float
    scaled_by: float = 1.0
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        for name in ("trades", "weights_after", "skipped"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))


def plan_rebalance(
    current: Mapping[str, float],
    target: Mapping[str, float],
    settings: PortfolioSettings,
    costs: CostModel,
    expected_returns: Mapping[str, float] | None = None,
) -> RebalancePlan:
    """Plan the move from ``current`` to ``target`` weights (fractions of equity)."""
    symbols = sorted(set(current) | set(target))
    unknown = sorted(set(symbols) - set(costs.symbols))
    if unknown:
        raise InvalidInputError(f"the cost model has no rates for {', '.join(unknown)}")
    for name, weights in (("current", current), ("target", target)):
        if any(not math.isfinite(w) for w in weights.values()):
            raise InvalidInputError(f"{name} weights must be finite")
    rate = dict(zip(costs.symbols, costs.linear_rate.tolist(), strict=True))
    wanted = {s: target.get(s, 0.0) - current.get(s, 0.0) for s in symbols}
    skipped: dict[str, str] = {}

    if expected_returns is not None:
        for s, delta in list(wanted.items()):
            shrinks = abs(current.get(s, 0.0) + delta) < abs(current.get(s, 0.0))
            gain = delta * expected_returns.get(s, 0.0)
            cost = abs(delta) * rate[s]
            if delta and not shrinks and gain <= settings.cost_hurdle_multiple * cost:
                skipped[s] = f"expected gain {gain:.2e} does not beat cost {cost:.2e}"
                wanted[s] = 0.0
    _drop_small(wanted, skipped, settings.min_trade_weight)
    turnover = sum(abs(d) for d in wanted.values())
    scale = 1.0
    if turnover > settings.max_turnover:
        scale = settings.max_turnover / turnover
        wanted = {s: d * scale for s, d in wanted.items()}
        _drop_small(wanted, skipped, settings.min_trade_weight)
    trades = {s: d for s, d in wanted.items() if d != 0.0}
    after = {s: current.get(s, 0.0) + trades.get(s, 0.0) for s in symbols}
    held = np.array([current.get(s, 0.0) for s in costs.symbols])
    moved = np.array([after.get(s, current.get(s, 0.0)) for s in costs.symbols])
    return RebalancePlan(
        trades=trades,
        weights_after={s: w for s, w in after.items() if w != 0.0},
        skipped=skipped,
        turnover=sum(abs(d) for d in trades.values()),
        estimated_cost=float(costs.rebalance_cost(held, moved)),
        scaled_by=scale,
    )


def _drop_small(wanted: dict[str, float], skipped: dict[str, str], minimum: float) -> None:
    for s, delta in wanted.items():
        if delta and abs(delta) < minimum:
            skipped[s] = f"trade {abs(delta):.4f} is below the minimum {minimum:.4f}"
            wanted[s] = 0.0


def plan_to_orders(
    plan: RebalancePlan,
    equity: float,
    prices: Mapping[str, float],
    at: datetime,
    id_prefix: str,
    lot_size: Mapping[str, float] | None = None,
) -> list[Order]:
    """Market orders for the plan's trades, quantities rounded down to ``lot_size``.

    Client order ids are ``<prefix>-<symbol>``: replaying the same plan gives the same ids,
    which the pre-trade duplicate check and the order table then refuse.
    """
    if equity <= 0:
        raise InvalidInputError(f"cannot size orders at equity {equity}")
    orders: list[Order] = []
    for symbol, delta in sorted(plan.trades.items()):
        price = prices.get(symbol)
        if price is None or price <= 0:
            raise InvalidInputError(f"no price to size the {symbol} trade")
        quantity = abs(delta) * equity / price
        lot = (lot_size or {}).get(symbol)
        if lot:
            quantity = math.floor(quantity / lot + 1e-9) * lot
        if quantity <= 0:
            continue
        orders.append(
            Order(
                client_order_id=f"{id_prefix}-{symbol}",
                symbol=symbol,
                side=Side.BUY if delta > 0 else Side.SELL,
                quantity=quantity,
                created_at=at,
            )
        )
    return orders
