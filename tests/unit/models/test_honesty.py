"""Honesty of the whole pipeline on markets whose truth is known.

- Planted signal (strength 0.5): out of sample, the hybrid recovers most of the IC that the
  oracle (the published signal itself) reaches on the very same test samples.
- Pure random walk: out-of-sample directional accuracy within 50% +/- 3% and IC near 0.
  Three classes are framed as a balanced binary question: did the sign of the forecast
  (P(up) - P(down) for classifiers, the regression head for the hybrid) match the sign of
  the realized return? Zero returns are left out.
- The random-walk guard is not toothless: the same run with a future-looking feature
  slipped in produces a clearly non-null IC.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
import torch

from quantdesk.models.evaluation import information_coefficient
from quantdesk.models.training import train_walk_forward
from tests.unit.models.training_fixtures import (
    COSTS,
    HONESTY_SPEC,
    synthetic_dataset,
    synthetic_market,
    tiny_architecture,
    tiny_training,
)

END = datetime(2018, 1, 1, tzinfo=UTC)
IC_SE = 1 / np.sqrt(3 * 3 * 150)  # standard error of a null IC over the pooled test samples


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def test_hybrid_planted_signal_recovers_most_of_the_oracle_ic_out_of_sample() -> None:
    # Arrange
    market = synthetic_market(signal_strength=0.5)
    data = synthetic_dataset(market, END)

    # Act
    result = train_walk_forward(data, HONESTY_SPEC, tiny_architecture(data.x.shape[2]),
                                tiny_training(), COSTS)  # fmt: skip

    # Assert: the oracle is the published signal z[t] (feature 0 at the window's last step).
    idx = result.test_indices
    oracle_ic = information_coefficient(data.x[idx, -1, 0], data.forward_return[idx])
    share = result.report.ic / oracle_ic
    assert oracle_ic == pytest.approx(market.theoretical_correlation, abs=4 * IC_SE)
    assert share >= 0.7, (
        f"hybrid IC {result.report.ic:.3f} is {share:.0%} of oracle {oracle_ic:.3f}"
    )
    assert result.report.directional_accuracy > 0.6


def test_hybrid_random_walk_is_a_coin_flip_out_of_sample() -> None:
    # Arrange
    data = synthetic_dataset(synthetic_market(signal_strength=0.0), END)

    # Act
    result = train_walk_forward(data, HONESTY_SPEC, tiny_architecture(data.x.shape[2]),
                                tiny_training(), COSTS)  # fmt: skip

    # Assert
    assert abs(result.report.directional_accuracy - 0.5) <= 0.03
    assert abs(result.report.ic) < 3 * IC_SE


def test_random_walk_guard_fails_when_a_future_looking_feature_is_slipped_in() -> None:
    # Arrange: the label plus noise of equal size, as a feature (look-ahead on purpose).
    data = synthetic_dataset(synthetic_market(signal_strength=0.0), END, leak=True)

    # Act
    result = train_walk_forward(data, HONESTY_SPEC, tiny_architecture(data.x.shape[2]),
                                tiny_training(), COSTS)  # fmt: skip

    # Assert: the guard above would reject this model.
    assert result.report.ic > 10 * IC_SE
    assert abs(result.report.directional_accuracy - 0.5) > 0.03
