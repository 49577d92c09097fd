"""The shared cost model: rates from the fee schedule, vectorised costs, scaling, impact, caps."""

from __future__ import annotations

import numpy as np
import pytest

from quantdesk.backtest.costs import CostModel
from quantdesk.config import CostSettings, load_settings
from quantdesk.domain import ConfigurationError, InvalidInputError, UnknownSymbolError

SYMBOLS = ("AAPL", "EUR-USD", "BTC-USD")


def settings(**overrides: object) -> CostSettings:
    base: dict[str, object] = {
        "fee_bps": {"robinhood": 0.0, "oanda": 0.0, "coinbase": 40.0},
        "half_spread_bps": {"equity": 1.0, "fx": 0.5, "crypto": 5.0},
        "slippage_bps": 2.0,
    }
    base.update(overrides)
    return CostSettings.model_validate(base)


def test_from_settings_catalogue_symbols_take_venue_fee_and_class_spread() -> None:
    # Act
    model = CostModel.from_settings(SYMBOLS, settings())

    # Assert: AAPL = 0 + 1 + 2, EUR-USD = 0 + 0.5 + 2, BTC-USD = 40 + 5 + 2 (bps)
    np.testing.assert_allclose(model.linear_rate, [3e-4, 2.5e-4, 47e-4])
    np.testing.assert_allclose(model.round_trip_bps, [6.0, 5.0, 94.0])


def test_cost_of_turnover_matrix_is_turnover_times_rate_per_column() -> None:
    # Arrange
    model = CostModel.from_settings(SYMBOLS, settings())
    turnover = np.array([[0.5, 0.0, 0.1], [0.0, -1.0, 0.2]])

    # Act
    cost = model.cost_of_turnover(turnover)

    # Assert: sign ignored, each column charged its own rate
    expected = np.abs(turnover) * np.array([3e-4, 2.5e-4, 47e-4])
    np.testing.assert_allclose(cost, expected)
    assert cost.shape == (2, 3)


def test_cost_of_notional_currency_trades_cost_rate_times_size() -> None:
    # Arrange
    model = CostModel.from_settings(SYMBOLS, settings())

    # Act
    cost = model.cost_of_notional(np.array([10_000.0, -20_000.0, 1_000.0]))

    # Assert
    np.testing.assert_allclose(cost, [3.0, 5.0, 4.7])


@pytest.mark.parametrize("scale", [0.0, 0.5, 1.0, 2.0])
def test_scaled_model_costs_multiply_by_scale(scale: float) -> None:
    # Arrange
    base = CostModel.from_settings(SYMBOLS, settings())
    turnover = np.full((4, 3), 0.25)

    # Act
    scaled = base.scaled(scale).cost_of_turnover(turnover)

    # Assert
    np.testing.assert_allclose(scaled, scale * base.cost_of_turnover(turnover))


def test_free_model_charges_nothing() -> None:
    model = CostModel.free(SYMBOLS)

    assert not model.cost_of_turnover(np.ones((3, 3))).any()


def test_impact_adds_square_root_of_participation() -> None:
    # Arrange: 1% participation, coefficient 0.1 -> 0.1 * sqrt(0.01) = 1% of notional
    model = CostModel.from_settings(["AAPL"], settings(impact_coefficient=0.1, slippage_bps=0.0))

    # Act
    cost = model.cost_of_notional(np.array([10_000.0]), bar_dollar_volume=np.array([1e6]))

    # Assert: linear 1 bp (spread) + 100 bps impact
    np.testing.assert_allclose(cost, [10_000.0 * (1e-4 + 0.01)])


def test_impact_cost_of_turnover_uses_equity_for_trade_size() -> None:
    # Arrange
    model = CostModel.from_settings(["AAPL"], settings(impact_coefficient=0.1, slippage_bps=0.0))
    turnover = np.array([[0.1], [0.1]])

    # Act: equity 1e5 then 4e5: participation 1% then 4% of a 1e6 bar
    cost = model.cost_of_turnover(turnover, np.array([1e5, 4e5]), np.full((2, 1), 1e6))

    # Assert
    np.testing.assert_allclose(cost[:, 0], [0.1 * (1e-4 + 0.01), 0.1 * (1e-4 + 0.02)])


def test_impact_without_volume_raises_naming_volume() -> None:
    model = CostModel.from_settings(["AAPL"], settings(impact_coefficient=0.1))

    with pytest.raises(InvalidInputError, match="dollar volume"):
        model.cost_of_notional(np.array([1.0]))


def test_cap_trades_clips_to_fraction_of_bar_volume_keeping_sign() -> None:
    # Arrange
    model = CostModel.from_settings(["AAPL", "MSFT"], settings(volume_cap=0.1))

    # Act
    capped = model.cap_trades(np.array([[-5_000.0, 500.0]]), np.array([[10_000.0, 10_000.0]]))

    # Assert
    np.testing.assert_allclose(capped, [[-1_000.0, 500.0]])


def test_cap_trades_without_cap_passes_trades_through() -> None:
    model = CostModel.from_settings(["AAPL"], settings())

    np.testing.assert_allclose(model.cap_trades(np.array([1e9]), np.array([0.0])), [1e9])


def test_cost_of_turnover_wrong_width_raises_naming_shape() -> None:
    model = CostModel.from_settings(SYMBOLS, settings())

    with pytest.raises(InvalidInputError, match="one column per symbol"):
        model.cost_of_turnover(np.ones((2, 2)))


def test_from_settings_venue_missing_from_schedule_raises_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="coinbase"):
        CostModel.from_settings(["BTC-USD"], settings(fee_bps={"robinhood": 0.0}))


def test_from_settings_unknown_symbol_raises() -> None:
    with pytest.raises(UnknownSymbolError):
        CostModel.from_settings(["NOPE"], settings())


def test_negative_scale_is_rejected() -> None:
    with pytest.raises(InvalidInputError, match="scale"):
        CostModel.from_settings(SYMBOLS, settings(), scale=-1.0)


def test_cost_settings_from_environment_override_fee_schedule(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Arrange
    monkeypatch.setenv("QUANTDESK_COSTS__SLIPPAGE_BPS", "3.5")
    monkeypatch.setenv("QUANTDESK_COSTS__FEE_BPS", '{"coinbase": 10}')

    # Act
    loaded = load_settings()

    # Assert
    assert loaded.costs.slippage_bps == 3.5
    assert loaded.costs.fee_bps == {"coinbase": 10.0}


def test_cost_settings_negative_bps_raise_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="QUANTDESK_COSTS__HALF_SPREAD_BPS"):
        load_settings(costs={"half_spread_bps": {"fx": -1.0}})


def test_rebalance_cost_buy_all_in_keeps_one_over_one_plus_fee() -> None:
    # Arrange: 40 bps fee, nothing else
    model = CostModel.from_settings(
        ["BTC-USD"], settings(half_spread_bps={"crypto": 0.0}, slippage_bps=0.0)
    )

    # Act
    buy = model.rebalance_cost(np.array([0.0]), np.array([1.0]))
    sell = model.rebalance_cost(np.array([1.0]), np.array([0.0]))

    # Assert
    assert buy == pytest.approx(1 - 1 / 1.004, rel=1e-12)
    assert sell == pytest.approx(0.004, rel=1e-12)


def test_rebalance_cost_solution_satisfies_its_equation_per_row() -> None:
    # Arrange
    rng = np.random.default_rng(3)
    model = CostModel.from_settings(SYMBOLS, settings())
    current = rng.normal(0, 0.5, (50, 3))
    target = rng.normal(0, 0.5, (50, 3))

    # Act
    cost = model.rebalance_cost(current, target)

    # Assert
    implied = np.sum(model.linear_rate * np.abs(target * (1 - cost[:, None]) - current), axis=1)
    np.testing.assert_allclose(cost, implied, rtol=1e-13, atol=1e-18)


def test_rebalance_cost_with_impact_satisfies_its_equation() -> None:
    # Arrange
    model = CostModel.from_settings(["AAPL", "MSFT"], settings(impact_coefficient=0.2))
    current, target = np.array([0.2, 0.5]), np.array([0.6, -0.1])
    volume = np.array([5e6, 2e6])

    # Act
    cost = model.rebalance_cost(current, target, equity=1e6, bar_dollar_volume=volume)

    # Assert
    traded = np.abs(target * (1 - cost) - current)
    implied = np.sum(traded * model.rate(traded * 1e6, volume))
    assert cost == pytest.approx(implied, rel=1e-12)
    assert cost > np.sum(model.linear_rate * traded)
