"""Property: over thousands of random order streams no approved order breaks a limit, and
while trading is reduce-only no approved order adds exposure."""

from __future__ import annotations

from dataclasses import dataclass, replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quantdesk.domain.trading import Order, OrderType, Side
from quantdesk.risk.limits import RiskLimits
from quantdesk.risk.pretrade import (
    RATE_WINDOW,
    AccountState,
    RiskEngine,
    effective_trading_state,
    record_fill,
)
from quantdesk.risk.trading_state import TradingState
from tests.unit.risk.risk_test_data import T0, seconds

SYMBOLS = ("AAPL", "MSFT", "BTC-USD")
TOL = 1e-7


@dataclass(frozen=True)
class Step:
    symbol: str
    side: Side
    quantity: float
    collar_offset_bps: float | None  # None: market order
    gap_seconds: float
    id_slot: int
    price_move: float  # relative move of this symbol's price before the order


def optional(low: float, high: float) -> st.SearchStrategy[float | None]:
    return st.none() | st.floats(low, high)


limits_strategy = st.builds(
    RiskLimits,
    max_order_notional=optional(1_000, 200_000),
    max_position_notional=optional(5_000, 400_000),
    max_gross_exposure=optional(0.2, 3.0),
    max_net_exposure=optional(0.1, 2.0),
    max_concentration=optional(0.05, 1.0),
    price_collar_bps=optional(10, 1_000),
    max_orders_per_minute=st.none() | st.integers(1, 10).map(float),
    max_daily_loss=optional(0.005, 0.2),
    max_drawdown=optional(0.01, 0.3),
    restricted_symbols=st.frozensets(st.sampled_from(SYMBOLS), max_size=1),
)
step_strategy = st.builds(
    Step,
    symbol=st.sampled_from(SYMBOLS),
    side=st.sampled_from(Side),
    quantity=st.floats(0.01, 3_000),
    collar_offset_bps=optional(-1_500, 1_500),
    gap_seconds=st.floats(0, 40),
    id_slot=st.integers(0, 60),
    price_move=st.floats(-0.1, 0.1),
)
start_strategy = st.fixed_dictionaries(
    {s: st.floats(-2_000, 2_000) if s != "BTC-USD" else st.floats(-5, 5) for s in SYMBOLS}
)


def exposures(state: AccountState, symbol: str, quantity: float) -> dict[str, float]:
    """Position, gross, net and concentration of ``state`` after adding ``quantity``."""
    values = state.notionals()
    values[symbol] = (state.position(symbol) + quantity) * state.last_prices[symbol]
    equity = state.equity
    return {
        "position": abs(values[symbol]),
        "gross": sum(abs(v) for v in values.values()) / equity,
        "net": abs(sum(values.values())) / equity,
        "concentration": abs(values[symbol]) / equity,
    }


def assert_within_limits(order: Order, state: AccountState, limits: RiskLimits) -> None:
    symbol, qty = order.symbol, order.signed_quantity
    last = state.last_prices[symbol]
    assert state.trading_state is not TradingState.HALTED
    assert symbol not in limits.restricted_symbols
    assert order.client_order_id not in state.client_order_ids
    price = order.limit_price or last
    if limits.max_order_notional is not None:
        assert order.quantity * price <= limits.max_order_notional * (1 + TOL)
    if limits.price_collar_bps is not None and order.limit_price is not None:
        assert abs(order.limit_price - last) / last * 1e4 <= limits.price_collar_bps * (1 + TOL)
    if limits.max_orders_per_minute is not None:
        window = [t for t in state.recent_order_times if t > order.created_at - RATE_WINDOW]
        assert len(window) + 1 <= limits.max_orders_per_minute
    before, after = exposures(state, symbol, 0.0), exposures(state, symbol, qty)
    caps = {
        "position": limits.max_position_notional,
        "gross": limits.max_gross_exposure,
        "net": limits.max_net_exposure,
        "concentration": limits.max_concentration,
    }
    for name, cap in caps.items():
        if cap is not None:
            assert after[name] <= cap * (1 + TOL) or after[name] <= before[name] * (1 + TOL), name
    if effective_trading_state(state, limits) is TradingState.REDUCING:
        pre = state.position(symbol)
        post = pre + qty
        assert abs(post) <= abs(pre) * (1 + TOL)
        assert pre * post >= 0
        assert after["gross"] <= before["gross"] * (1 + TOL)


@settings(
    max_examples=2000,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    limits=limits_strategy,
    start=start_strategy,
    trading_state=st.sampled_from(TradingState),
    equity_factor=st.floats(0.7, 1.0),
    steps=st.lists(step_strategy, min_size=1, max_size=25),
)
def test_random_order_streams_never_approve_a_limit_breach(
    limits: RiskLimits,
    start: dict[str, float],
    trading_state: TradingState,
    equity_factor: float,
    steps: list[Step],
) -> None:
    engine = RiskEngine(limits)
    state = AccountState(
        equity=1_000_000 * equity_factor,
        start_of_day_equity=1_000_000,
        peak_equity=1_050_000,
        positions=start,
        last_prices={"AAPL": 100.0, "MSFT": 250.0, "BTC-USD": 30_000.0},
        trading_state=trading_state,
    )
    now = T0
    for step in steps:
        # The market moves: prices and equity change, the peak follows equity up.
        old = state.last_prices[step.symbol]
        new = old * (1 + step.price_move)
        equity = state.equity + state.position(step.symbol) * (new - old)
        state = replace(
            state,
            last_prices={**state.last_prices, step.symbol: new},
            equity=equity,
            peak_equity=max(state.peak_equity, equity),
        )
        now += seconds(step.gap_seconds)
        limit_price = (
            None if step.collar_offset_bps is None else new * (1 + step.collar_offset_bps / 1e4)
        )
        order = Order(
            client_order_id=f"id-{step.id_slot}",
            symbol=step.symbol,
            side=step.side,
            quantity=step.quantity,
            created_at=now,
            order_type=OrderType.MARKET if limit_price is None else OrderType.LIMIT,
            limit_price=limit_price,
        )
        verdict, after = engine.submit(order, state)
        if verdict.approved:
            assert_within_limits(order, state, limits)
            state = record_fill(after, order.symbol, order.signed_quantity)
        else:
            assert verdict.details and after is state
