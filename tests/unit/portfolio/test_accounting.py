"""Accounting: average cost, realized on reductions and flips, value conserved."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantdesk.domain.errors import InvalidInputError
from quantdesk.portfolio.accounting import Account, Fill


def test_account_buy_then_sell_realizes_the_difference() -> None:
    account = Account.open(10_000)

    account = account.apply(Fill("AAPL", 10, 100.0, fee=1.0))
    account = account.apply(Fill("AAPL", 10, 110.0, fee=1.0))
    account = account.apply(Fill("AAPL", -15, 120.0, fee=1.5))

    position = account.positions["AAPL"]
    assert position.quantity == 5 and position.average_price == pytest.approx(105.0)
    assert account.realized_pnl == pytest.approx(15 * (120 - 105))
    assert account.fees_paid == pytest.approx(3.5)
    assert account.cash == pytest.approx(10_000 - 1000 - 1100 + 1800 - 3.5)


def test_account_flip_from_long_to_short_resets_average_price() -> None:
    account = Account.open(0).apply(Fill("BTC-USD", 2, 100.0)).apply(Fill("BTC-USD", -5, 90.0))

    position = account.positions["BTC-USD"]
    assert position.quantity == -3 and position.average_price == 90.0
    assert account.realized_pnl == pytest.approx(-20.0)


def test_account_closing_removes_the_position() -> None:
    account = Account.open(0).apply(Fill("MSFT", -4, 50.0)).apply(Fill("MSFT", 4, 45.0))

    assert "MSFT" not in account.positions
    assert account.realized_pnl == pytest.approx(20.0)
    assert account.equity({}) == pytest.approx(20.0)


def test_account_weights_are_fractions_of_equity() -> None:
    account = Account.open(1_000).apply(Fill("AAPL", 5, 100.0))

    assert account.weights({"AAPL": 100.0}) == {"AAPL": pytest.approx(0.5)}


def test_account_missing_mark_raises() -> None:
    account = Account.open(1_000).apply(Fill("AAPL", 1, 100.0))

    with pytest.raises(InvalidInputError, match="AAPL"):
        account.equity({})


fills = st.lists(
    st.tuples(
        st.sampled_from(["AAPL", "MSFT", "BTC-USD"]),
        st.floats(-50, 50).filter(lambda q: abs(q) > 1e-3),
        st.floats(1, 500),
        st.floats(0, 5),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(fills=fills, marks=st.tuples(st.floats(1, 500), st.floats(1, 500), st.floats(1, 500)))
def test_account_conserves_value_over_any_fills(
    fills: list[tuple[str, float, float, float]], marks: tuple[float, float, float]
) -> None:
    account = Account.open(100_000)
    for symbol, quantity, price, fee in fills:
        before = account.equity({symbol: price, **{s: price for s in account.positions}})
        account = account.apply(Fill(symbol, quantity, price, fee))
        # Trading at the mark changes equity by exactly the fee (others marked at their cost).
        after = account.equity({symbol: price, **{s: price for s in account.positions}})
        assert after == pytest.approx(before - fee, rel=1e-9, abs=1e-6)
    prices = dict(zip(["AAPL", "MSFT", "BTC-USD"], marks, strict=True))

    equity = account.equity(prices)

    expected = 100_000 + account.realized_pnl + account.unrealized_pnl(prices) - account.fees_paid
    assert equity == pytest.approx(expected, rel=1e-9, abs=1e-6)
