"""Small builders shared by the risk tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from quantdesk.domain.trading import Order, OrderType, Side
from quantdesk.risk.pretrade import AccountState
from quantdesk.risk.trading_state import TradingState

T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
_counter = iter(range(10**9))


def order(
    symbol: str = "AAPL",
    side: Side = Side.BUY,
    quantity: float = 10.0,
    *,
    limit_price: float | None = None,
    at: datetime = T0,
    client_order_id: str | None = None,
) -> Order:
    return Order(
        client_order_id=client_order_id or f"o-{next(_counter)}",
        symbol=symbol,
        side=side,
        quantity=quantity,
        created_at=at,
        order_type=OrderType.LIMIT if limit_price is not None else OrderType.MARKET,
        limit_price=limit_price,
    )


def account(
    *,
    equity: float = 1_000_000.0,
    positions: dict[str, float] | None = None,
    prices: dict[str, float] | None = None,
    state: TradingState = TradingState.ACTIVE,
    start_of_day_equity: float | None = None,
    peak_equity: float | None = None,
    recent: tuple[datetime, ...] = (),
    used_ids: frozenset[str] = frozenset(),
) -> AccountState:
    return AccountState(
        equity=equity,
        start_of_day_equity=start_of_day_equity or equity,
        peak_equity=peak_equity or equity,
        positions=positions or {},
        last_prices=prices or {"AAPL": 100.0, "MSFT": 200.0, "BTC-USD": 30_000.0},
        trading_state=state,
        recent_order_times=recent,
        client_order_ids=used_ids,
    )


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)
