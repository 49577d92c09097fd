"""Pre-trade checks: one pure function from (order, account state, limits) to a verdict.

The same code runs in the backtest and live, so a strategy cannot pass a backtest on checks
that production would refuse. Every denial carries a :class:`DenialReason`; all failing
checks are reported, not only the first, so a person sees the whole picture.

Exposure-type limits (position, gross, net, concentration) deny an order only when the
post-trade figure is over the limit *and* worse than before: after a price move has pushed
the book over a limit, orders that shrink it still pass. Order notional, price collar,
order rate, restricted list and duplicate ids apply to every order. In REDUCING (set by the
kill switch, or forced by the daily-loss limit or the drawdown brake) only orders that shrink
an existing position without crossing zero pass; in HALTED nothing passes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from quantdesk.domain.errors import InvalidInputError
from quantdesk.domain.trading import LimitKind, Order, OrderType
from quantdesk.risk.limits import RiskLimits
from quantdesk.risk.trading_state import TradingState

RATE_WINDOW = timedelta(minutes=1)
_Deny = Callable[["DenialReason", str], None]
_REL_TOL = 1e-9


class DenialReason(StrEnum):
    """Why an order was refused; stable codes for logs, the audit chain and the API."""

    TRADING_HALTED = "trading_halted"
    REDUCE_ONLY = "reduce_only"
    DAILY_LOSS_LIMIT = "daily_loss_limit"
    DRAWDOWN_BRAKE = "drawdown_brake"
    NON_POSITIVE_EQUITY = "non_positive_equity"
    RESTRICTED_SYMBOL = "restricted_symbol"
    DUPLICATE_CLIENT_ORDER_ID = "duplicate_client_order_id"
    NO_REFERENCE_PRICE = "no_reference_price"
    MAX_ORDER_NOTIONAL = "max_order_notional"
    MAX_POSITION_NOTIONAL = "max_position_notional"
    MAX_GROSS_EXPOSURE = "max_gross_exposure"
    MAX_NET_EXPOSURE = "max_net_exposure"
    MAX_CONCENTRATION = "max_concentration"
    PRICE_COLLAR = "price_collar"
    ORDER_RATE = "order_rate"


@dataclass(frozen=True, slots=True)
class AccountState:
    """What the checks need to know about the account, as plain values.

    ``positions`` are signed quantities; ``last_prices`` mark them; ``recent_order_times``
    are the creation times of accepted orders (only the last minute matters).
    """

    equity: float
    start_of_day_equity: float
    peak_equity: float
    positions: Mapping[str, float] = field(default_factory=dict)
    last_prices: Mapping[str, float] = field(default_factory=dict)
    trading_state: TradingState = TradingState.ACTIVE
    recent_order_times: tuple[datetime, ...] = ()
    client_order_ids: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.start_of_day_equity <= 0 or self.peak_equity <= 0:
            raise InvalidInputError("start_of_day_equity and peak_equity must be > 0")
        for symbol, price in self.last_prices.items():
            if not price > 0:
                raise InvalidInputError(f"last price of {symbol} must be > 0, got {price}")
        object.__setattr__(self, "positions", MappingProxyType(dict(self.positions)))
        object.__setattr__(self, "last_prices", MappingProxyType(dict(self.last_prices)))
        object.__setattr__(self, "trading_state", TradingState(self.trading_state))
        object.__setattr__(self, "client_order_ids", frozenset(self.client_order_ids))

    def position(self, symbol: str) -> float:
        return self.positions.get(symbol, 0.0)

    def notionals(self) -> dict[str, float]:
        """Signed market value per symbol (symbols without a price are valued at 0)."""
        return {s: q * self.last_prices.get(s, 0.0) for s, q in self.positions.items()}


@dataclass(frozen=True, slots=True)
class RiskVerdict:
    """The answer of the checks; truthy only when the order may be sent."""

    client_order_id: str
    reasons: tuple[DenialReason, ...]
    details: tuple[str, ...]
    trading_state: TradingState

    @property
    def approved(self) -> bool:
        return not self.reasons

    def __bool__(self) -> bool:
        return self.approved


def is_reducing(position: float, signed_quantity: float) -> bool:
    """True when the trade shrinks ``position`` towards zero without crossing it."""
    return position * signed_quantity < 0 and abs(signed_quantity) <= abs(position) * (1 + _REL_TOL)


def effective_trading_state(state: AccountState, limits: RiskLimits) -> TradingState:
    """The switch's state, tightened to REDUCING by a daily-loss or drawdown breach."""
    return state.trading_state.worst(
        TradingState.REDUCING if _loss_breaches(state, limits) else TradingState.ACTIVE
    )


def check_order(order: Order, state: AccountState, limits: RiskLimits) -> RiskVerdict:
    """Run every pre-trade check; pure, so backtest and live get the same verdicts."""
    reasons: list[DenialReason] = []
    details: list[str] = []

    def deny(reason: DenialReason, detail: str) -> None:
        reasons.append(reason)
        details.append(detail)

    symbol, qty = order.symbol, order.signed_quantity
    pre = state.position(symbol)
    reducing = is_reducing(pre, qty)
    trading_state = effective_trading_state(state, limits)

    if state.trading_state is TradingState.HALTED:
        deny(DenialReason.TRADING_HALTED, "the kill switch is engaged: nothing new is sent")
    elif not reducing:
        if state.trading_state is TradingState.REDUCING:
            deny(DenialReason.REDUCE_ONLY, "trading is reduce-only and this order adds exposure")
        for reason, detail in _loss_breaches(state, limits):
            deny(reason, detail)
        if state.equity <= 0:
            deny(DenialReason.NON_POSITIVE_EQUITY, f"equity is {state.equity:.2f}")
    if symbol in limits.restricted_symbols:
        deny(DenialReason.RESTRICTED_SYMBOL, f"{symbol} is on the restricted list")
    if order.client_order_id in state.client_order_ids:
        deny(DenialReason.DUPLICATE_CLIENT_ORDER_ID, f"{order.client_order_id} was already used")
    _check_rate(order, state, limits, deny)

    last = state.last_prices.get(symbol)
    if last is None:
        deny(DenialReason.NO_REFERENCE_PRICE, f"no last price for {symbol}")
        return _verdict(order, reasons, details, trading_state)

    exec_price = (
        order.limit_price if order.order_type is OrderType.LIMIT and order.limit_price else last
    )
    _check_order_notional(order, exec_price, limits, deny)
    _check_collar(order, last, limits, deny)
    _check_exposures(order, state, limits, last, deny)
    return _verdict(order, reasons, details, trading_state)


def record_acceptance(state: AccountState, order: Order) -> AccountState:
    """The state after ``order`` was accepted: its id is used and it counts towards the rate."""
    horizon = order.created_at - RATE_WINDOW
    recent = (*(t for t in state.recent_order_times if t > horizon), order.created_at)
    return replace(
        state,
        recent_order_times=recent,
        client_order_ids=state.client_order_ids | {order.client_order_id},
    )


def record_fill(state: AccountState, symbol: str, signed_quantity: float) -> AccountState:
    """The state after a fill at the last price (equity is unchanged by a fill at the mark)."""
    positions = dict(state.positions)
    positions[symbol] = positions.get(symbol, 0.0) + signed_quantity
    return replace(state, positions=positions)


class RiskEngine:
    """The limits bound to the pure checks; one instance serves the backtest and live."""

    def __init__(self, limits: RiskLimits) -> None:
        self.limits = limits

    def check(self, order: Order, state: AccountState) -> RiskVerdict:
        return check_order(order, state, self.limits)

    def submit(self, order: Order, state: AccountState) -> tuple[RiskVerdict, AccountState]:
        """Check ``order``; on approval return the state that remembers it was accepted."""
        verdict = self.check(order, state)
        return verdict, (record_acceptance(state, order) if verdict else state)

    def trading_state(self, state: AccountState) -> TradingState:
        return effective_trading_state(state, self.limits)


# -- the individual checks ------------------------------------------------------------------


def _verdict(
    order: Order, reasons: list[DenialReason], details: list[str], state: TradingState
) -> RiskVerdict:
    return RiskVerdict(order.client_order_id, tuple(reasons), tuple(details), state)


def _loss_breaches(state: AccountState, limits: RiskLimits) -> list[tuple[DenialReason, str]]:
    found: list[tuple[DenialReason, str]] = []
    daily_loss = (state.start_of_day_equity - state.equity) / state.start_of_day_equity
    if limits.max_daily_loss is not None and daily_loss >= limits.max_daily_loss:
        found.append(
            (
                DenialReason.DAILY_LOSS_LIMIT,
                f"daily loss {daily_loss:.2%} reached the limit {limits.max_daily_loss:.2%}",
            )
        )
    drawdown = (state.peak_equity - state.equity) / state.peak_equity
    if limits.max_drawdown is not None and drawdown >= limits.max_drawdown:
        found.append(
            (
                DenialReason.DRAWDOWN_BRAKE,
                f"drawdown {drawdown:.2%} reached the brake {limits.max_drawdown:.2%}",
            )
        )
    return found


def _check_rate(order: Order, state: AccountState, limits: RiskLimits, deny: _Deny) -> None:
    cap = limits.max_orders_per_minute
    if cap is None:
        return
    horizon = order.created_at - RATE_WINDOW
    count = sum(1 for t in state.recent_order_times if horizon < t <= order.created_at)
    if count + 1 > cap:
        deny(DenialReason.ORDER_RATE, f"{count} orders in the last minute; the cap is {cap:g}")


def _check_order_notional(order: Order, price: float, limits: RiskLimits, deny: _Deny) -> None:
    cap = limits.for_symbol(LimitKind.MAX_ORDER_NOTIONAL, order.symbol)
    notional = order.quantity * price
    if cap is not None and _over(notional, cap):
        deny(DenialReason.MAX_ORDER_NOTIONAL, f"order notional {notional:,.2f} > {cap:,.2f}")


def _check_collar(order: Order, last: float, limits: RiskLimits, deny: _Deny) -> None:
    collar = limits.for_symbol(LimitKind.PRICE_COLLAR_BPS, order.symbol)
    if collar is None or order.limit_price is None:
        return
    distance = abs(order.limit_price - last) / last * 1e4
    if _over(distance, collar):
        deny(
            DenialReason.PRICE_COLLAR,
            f"limit {order.limit_price:g} is {distance:.0f} bps from last {last:g} (> {collar:g})",
        )


def _check_exposures(
    order: Order, state: AccountState, limits: RiskLimits, last: float, deny: _Deny
) -> None:
    symbol = order.symbol
    before = state.notionals()
    after = dict(before)
    after[symbol] = (state.position(symbol) + order.signed_quantity) * last
    pre_pos, post_pos = abs(before.get(symbol, 0.0)), abs(after[symbol])

    cap = limits.for_symbol(LimitKind.MAX_POSITION_NOTIONAL, symbol)
    if cap is not None and _worse_and_over(pre_pos, post_pos, cap):
        deny(DenialReason.MAX_POSITION_NOTIONAL, f"position {post_pos:,.2f} > {cap:,.2f}")

    equity = state.equity
    if equity <= 0:
        return  # fractions of equity are meaningless; non-reducing orders are denied above
    gross_pre = sum(abs(v) for v in before.values()) / equity
    gross_post = sum(abs(v) for v in after.values()) / equity
    cap = limits.max_gross_exposure
    if cap is not None and _worse_and_over(gross_pre, gross_post, cap):
        deny(DenialReason.MAX_GROSS_EXPOSURE, f"gross exposure {gross_post:.2f}x > {cap:g}x")
    net_pre = abs(sum(before.values())) / equity
    net_post = abs(sum(after.values())) / equity
    cap = limits.max_net_exposure
    if cap is not None and _worse_and_over(net_pre, net_post, cap):
        deny(DenialReason.MAX_NET_EXPOSURE, f"net exposure {net_post:.2f}x > {cap:g}x")
    cap = limits.for_symbol(LimitKind.MAX_CONCENTRATION, symbol)
    if cap is not None and _worse_and_over(pre_pos / equity, post_pos / equity, cap):
        deny(
            DenialReason.MAX_CONCENTRATION,
            f"{symbol} would be {post_pos / equity:.1%} of equity (> {cap:.1%})",
        )


def _over(value: float, cap: float) -> bool:
    return value > cap * (1 + _REL_TOL)


def _worse_and_over(before: float, after: float, cap: float) -> bool:
    return _over(after, cap) and after > before * (1 + _REL_TOL)
