"""The promotion gate: margin, same folds, calibration; every decision explains itself."""

from __future__ import annotations

import pytest

from quantdesk.domain.errors import InvalidInputError
from quantdesk.models.promotion_gate import CandidateScores, GateCriteria, decide_promotion

CRITERIA = GateCriteria(metric="ic", margin=0.01, max_ece=0.05)


def _scores(*folds: float, key: str = "folds-a", ece: float | None = 0.02) -> CandidateScores:
    return CandidateScores("ic", folds, key, ece)


def test_gate_challenger_beating_champion_by_margin_with_good_calibration_promotes() -> None:
    decision = decide_promotion(_scores(0.10, 0.12), _scores(0.08, 0.09), CRITERIA)
    assert decision.promote
    assert any("beats champion" in r for r in decision.reasons)


def test_gate_gain_within_margin_is_refused_with_reason() -> None:
    decision = decide_promotion(_scores(0.095, 0.095), _scores(0.09, 0.09), CRITERIA)
    assert not decision.promote
    assert any("does not beat" in r for r in decision.reasons)


def test_gate_poor_calibration_is_refused_even_when_much_better() -> None:
    decision = decide_promotion(_scores(0.3, 0.3, ece=0.2), _scores(0.0, 0.0), CRITERIA)
    assert not decision.promote
    assert any("calibration fails" in r for r in decision.reasons)


def test_gate_scores_on_other_folds_are_not_comparable() -> None:
    decision = decide_promotion(_scores(0.3, key="folds-b"), _scores(0.0, key="folds-a"), CRITERIA)
    assert not decision.promote
    assert any("not comparable" in r for r in decision.reasons)


def test_gate_first_model_promotes_when_calibrated() -> None:
    decision = decide_promotion(_scores(0.01), None, CRITERIA)
    assert decision.promote and decision.champion_score is None


def test_gate_lower_is_better_metric_for_losses() -> None:
    # Arrange: an RL ensemble gated on drawdown, no calibration.
    criteria = GateCriteria(
        metric="max_drawdown", margin=0.01, max_ece=None, higher_is_better=False
    )
    challenger = CandidateScores("max_drawdown", (0.10,), "k")
    champion = CandidateScores("max_drawdown", (0.15,), "k")

    # Act / Assert
    assert decide_promotion(challenger, champion, criteria).promote


def test_candidate_scores_without_finite_folds_raise() -> None:
    with pytest.raises(InvalidInputError):
        CandidateScores("ic", (float("nan"),), "k")


def test_gate_first_model_below_the_floor_is_refused() -> None:
    criteria = GateCriteria(metric="ic", margin=0.01, max_ece=0.05, floor=0.0)
    decision = decide_promotion(_scores(-0.02, 0.01), None, criteria)
    assert not decision.promote
    assert any("does not beat the floor" in r for r in decision.reasons)
