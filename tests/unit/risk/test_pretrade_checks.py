"""Each pre-trade check denies with its own reason code, and only when it should."""

from __future__ import annotations

import pytest

from quantdesk.config import RiskSettings
from quantdesk.domain.errors import InvalidInputError
from quantdesk.domain.trading import LimitKind, RiskLimit, Side
from quantdesk.risk.limits import RiskLimits
from quantdesk.risk.pretrade import DenialReason, RiskEngine, check_order, record_fill
from quantdesk.risk.trading_state import TradingState
from tests.unit.risk.risk_test_data import T0, account, order, seconds

NO_LIMITS = RiskLimits()


def test_check_order_without_limits_approves() -> None:
    verdict = check_order(order(quantity=1e6), account(), NO_LIMITS)

    assert verdict.approved and bool(verdict) and verdict.reasons == ()


def test_check_order_over_order_notional_denies_with_reason() -> None:
    limits = RiskLimits(max_order_notional=5_000)

    small = check_order(order(quantity=50), account(), limits)  # 5,000 at 100
    big = check_order(order(quantity=51), account(), limits)

    assert small.approved
    assert big.reasons == (DenialReason.MAX_ORDER_NOTIONAL,)


def test_check_order_limit_order_notional_uses_limit_price() -> None:
    limits = RiskLimits(max_order_notional=5_000)

    verdict = check_order(order(quantity=50, limit_price=101.0), account(), limits)

    assert verdict.reasons == (DenialReason.MAX_ORDER_NOTIONAL,)


def test_check_order_position_limit_denies_increase_but_allows_reduction() -> None:
    limits = RiskLimits(max_position_notional=10_000)
    book = account(positions={"AAPL": 150.0})  # 15,000: over after a price move

    adding = check_order(order(quantity=1), book, limits)
    reducing = check_order(order(side=Side.SELL, quantity=10), book, limits)

    assert adding.reasons == (DenialReason.MAX_POSITION_NOTIONAL,)
    assert reducing.approved


def test_check_order_gross_exposure_counts_every_symbol() -> None:
    limits = RiskLimits(max_gross_exposure=1.0)
    book = account(equity=100_000, positions={"AAPL": 500.0, "MSFT": -200.0})  # 90,000 gross

    within = check_order(order(quantity=100), book, limits)  # +10,000
    beyond = check_order(order(quantity=101), book, limits)

    assert within.approved
    assert beyond.reasons == (DenialReason.MAX_GROSS_EXPOSURE,)


def test_check_order_net_exposure_denies_and_short_can_offset() -> None:
    limits = RiskLimits(max_net_exposure=0.5)
    book = account(equity=100_000, positions={"AAPL": 500.0})  # net 0.5x

    buy = check_order(order("MSFT", quantity=1), book, limits)
    sell_other = check_order(order("MSFT", Side.SELL, quantity=100), book, limits)

    assert buy.reasons == (DenialReason.MAX_NET_EXPOSURE,)
    assert sell_other.approved


def test_check_order_concentration_uses_symbol_scoped_limit() -> None:
    limits = RiskLimits(max_concentration=0.5).with_limits(
        [RiskLimit(LimitKind.MAX_CONCENTRATION, 0.1, symbol="BTC-USD")]
    )
    book = account(equity=100_000)

    btc = check_order(order("BTC-USD", quantity=0.4), book, limits)  # 12%
    aapl = check_order(order("AAPL", quantity=400), book, limits)  # 40%

    assert btc.reasons == (DenialReason.MAX_CONCENTRATION,)
    assert aapl.approved


def test_check_order_price_collar_denies_far_limit_price() -> None:
    limits = RiskLimits(price_collar_bps=100)

    near = check_order(order(limit_price=100.99), account(), limits)
    far = check_order(order(limit_price=98.9), account(), limits)
    market = check_order(order(), account(), limits)

    assert near.approved and market.approved
    assert far.reasons == (DenialReason.PRICE_COLLAR,)


def test_check_order_without_last_price_denies() -> None:
    verdict = check_order(order("ETH-USD"), account(), NO_LIMITS)

    assert verdict.reasons == (DenialReason.NO_REFERENCE_PRICE,)


def test_check_order_rate_counts_only_the_last_minute() -> None:
    limits = RiskLimits(max_orders_per_minute=3)
    busy = account(recent=(T0 - seconds(50), T0 - seconds(20), T0 - seconds(1)))
    calmer = account(recent=(T0 - seconds(61), T0 - seconds(20), T0 - seconds(1)))

    assert check_order(order(at=T0), busy, limits).reasons == (DenialReason.ORDER_RATE,)
    assert check_order(order(at=T0), calmer, limits).approved


def test_risk_engine_submit_remembers_ids_and_rate() -> None:
    engine = RiskEngine(RiskLimits(max_orders_per_minute=2))
    state = account()

    first, state = engine.submit(order(client_order_id="a", at=T0), state)
    repeat, state = engine.submit(order(client_order_id="a", at=T0 + seconds(1)), state)
    second, state = engine.submit(order(client_order_id="b", at=T0 + seconds(2)), state)
    third, state = engine.submit(order(client_order_id="c", at=T0 + seconds(3)), state)

    assert first.approved and second.approved
    assert repeat.reasons == (DenialReason.DUPLICATE_CLIENT_ORDER_ID,)
    assert third.reasons == (DenialReason.ORDER_RATE,)


def test_check_order_restricted_symbol_denies_even_reductions() -> None:
    limits = RiskLimits(restricted_symbols=frozenset({"AAPL"}))
    book = account(positions={"AAPL": 10.0})

    verdict = check_order(order(side=Side.SELL, quantity=5), book, limits)

    assert verdict.reasons == (DenialReason.RESTRICTED_SYMBOL,)


def test_check_order_halted_denies_everything() -> None:
    book = account(positions={"AAPL": 10.0}, state=TradingState.HALTED)

    verdict = check_order(order(side=Side.SELL, quantity=5), book, NO_LIMITS)

    assert verdict.reasons == (DenialReason.TRADING_HALTED,)


@pytest.mark.parametrize(
    ("side", "quantity", "approved"),
    [(Side.SELL, 5.0, True), (Side.SELL, 10.0, True), (Side.SELL, 11.0, False),
     (Side.BUY, 1.0, False)],
)  # fmt: skip
def test_check_order_reducing_state_allows_only_shrinking(
    side: Side, quantity: float, approved: bool
) -> None:
    book = account(positions={"AAPL": 10.0}, state=TradingState.REDUCING)

    verdict = check_order(order(side=side, quantity=quantity), book, NO_LIMITS)

    assert verdict.approved is approved
    if not approved:
        assert verdict.reasons == (DenialReason.REDUCE_ONLY,)


def test_check_order_daily_loss_breach_forces_reduce_only() -> None:
    limits = RiskLimits(max_daily_loss=0.03)
    book = account(equity=969_000, start_of_day_equity=1_000_000, positions={"AAPL": 10.0})

    adding = check_order(order(), book, limits)
    reducing = check_order(order(side=Side.SELL, quantity=10), book, limits)

    assert adding.reasons == (DenialReason.DAILY_LOSS_LIMIT,)
    assert adding.trading_state is TradingState.REDUCING
    assert reducing.approved


def test_check_order_drawdown_brake_denies_new_exposure() -> None:
    limits = RiskLimits(max_drawdown=0.10)
    book = account(equity=890_000, peak_equity=1_000_000, start_of_day_equity=890_000)

    verdict = check_order(order(), book, limits)

    assert verdict.reasons == (DenialReason.DRAWDOWN_BRAKE,)


def test_check_order_reports_every_failing_check() -> None:
    limits = RiskLimits(max_order_notional=100, restricted_symbols=frozenset({"AAPL"}))

    verdict = check_order(
        order(quantity=5, client_order_id="x"), account(used_ids=frozenset({"x"})), limits
    )

    assert set(verdict.reasons) == {
        DenialReason.MAX_ORDER_NOTIONAL,
        DenialReason.RESTRICTED_SYMBOL,
        DenialReason.DUPLICATE_CLIENT_ORDER_ID,
    }
    assert len(verdict.details) == 3


def test_risk_limits_from_settings_match_the_settings() -> None:
    settings = RiskSettings(max_order_notional=1234.0, restricted_symbols=("MSFT",))

    limits = RiskLimits.from_settings(settings)

    assert limits.max_order_notional == 1234.0
    assert limits.max_orders_per_minute == settings.max_orders_per_minute
    assert check_order(order("MSFT", quantity=1), account(), limits).reasons == (
        DenialReason.RESTRICTED_SYMBOL,
    )


def test_risk_limits_portfolio_kind_scoped_to_symbol_raises() -> None:
    with pytest.raises(InvalidInputError, match="portfolio-wide"):
        RiskLimits.from_risk_limits([RiskLimit(LimitKind.MAX_DRAWDOWN, 0.1, symbol="AAPL")])


def test_risk_limits_disabled_limit_is_ignored() -> None:
    limits = RiskLimits.from_risk_limits(
        [RiskLimit(LimitKind.MAX_ORDER_NOTIONAL, 1.0, enabled=False)]
    )

    assert limits.max_order_notional is None


def test_record_fill_moves_the_position() -> None:
    state = record_fill(account(positions={"AAPL": 3.0}), "AAPL", -5.0)

    assert state.position("AAPL") == -2.0
