"""Calibration (temperature, ECE, reliability) and out-of-sample metrics on known inputs."""

from __future__ import annotations

import numpy as np
import pytest

from quantdesk.models.calibration import (
    expected_calibration_error,
    fit_temperature,
    reliability_curve,
    softmax,
)
from quantdesk.models.evaluation import (
    balanced_accuracy,
    brier_score,
    directional_accuracy,
    information_coefficient,
    rank_information_coefficient,
    signal_returns_after_costs,
)


def _overconfident(n: int = 4000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    true_logits = rng.standard_normal((n, 3))
    labels = np.array([rng.choice(3, p=p) for p in softmax(true_logits)])
    return true_logits * 3.0, labels  # three times too sharp


def test_fit_temperature_undoes_overconfidence_and_lowers_ece() -> None:
    # Arrange
    logits, labels = _overconfident()

    # Act
    temperature = fit_temperature(logits, labels)

    # Assert
    assert temperature == pytest.approx(3.0, rel=0.15)
    before = expected_calibration_error(softmax(logits), labels)
    after = expected_calibration_error(softmax(logits, temperature), labels)
    assert after < before / 3


def test_reliability_curve_of_perfect_predictions_is_all_correct() -> None:
    # Arrange
    probs = np.eye(3)[[0, 1, 2, 1]]

    # Act
    curve = reliability_curve(probs, [0, 1, 2, 1])

    # Assert
    assert curve.count.sum() == 4
    np.testing.assert_allclose(curve.accuracy, 1.0)
    assert expected_calibration_error(probs, [0, 1, 2, 1]) == pytest.approx(0.0)


def test_information_coefficients_of_monotone_and_constant_forecasts() -> None:
    x = np.arange(10.0)
    assert rank_information_coefficient(x**3, x) == pytest.approx(1.0)
    assert information_coefficient(np.zeros(10), x) == 0.0


def test_accuracies_and_brier_on_known_values() -> None:
    assert balanced_accuracy([1, 1, 1, 1], [1, 1, 1, 0]) == pytest.approx(0.5)
    assert directional_accuracy([1.0, -1.0, 1.0], [0.5, 0.2, 0.0]) == pytest.approx(0.5)
    assert brier_score(np.array([[0.0, 1.0, 0.0]]), [1]) == 0.0
    assert brier_score(np.array([[1.0, 0.0, 0.0]]), [1]) == pytest.approx(2.0)


def test_signal_returns_after_costs_charge_each_position_change() -> None:
    # Arrange: one symbol, long, long, short; each return 1%.
    forecast, realized = [1.0, 2.0, -1.0], [0.01, 0.01, 0.01]

    # Act
    per_time, turnover = signal_returns_after_costs(
        forecast, realized, ["X", "X", "X"], [0, 1, 2], {"X": 0.001}
    )

    # Assert: entering costs 1 unit, flipping costs 2 units.
    np.testing.assert_allclose(per_time, [0.01 - 0.001, 0.01, -0.01 - 0.002])
    assert turnover == pytest.approx(1.0)
