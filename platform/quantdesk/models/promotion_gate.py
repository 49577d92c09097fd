"""The promotion gate: a challenger replaces the champion only when it is better and calibrated.

Pure and model-agnostic (the hybrid and the RL ensemble both use it): a candidate is
summarised by its per-fold out-of-sample scores on a named set of folds (``folds_key``) and
its calibration error. The challenger must be scored on the *same* folds as the champion,
beat the champion's mean score by ``margin``, and pass the calibration limit; every decision
carries its reasons, so refusals can be audited.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from quantdesk.domain.errors import InvalidInputError


@dataclass(frozen=True, slots=True)
class GateCriteria:
    """``metric`` names the score (higher is better unless ``higher_is_better`` is False).

    ``floor``: the score a model must beat even with no champion (IC 0 is what the
    always-flat baseline scores); ``None`` for no floor.
    """

    metric: str = "ic"
    margin: float = 0.005
    max_ece: float | None = 0.05
    higher_is_better: bool = True
    floor: float | None = None

    def __post_init__(self) -> None:
        if self.margin < 0 or (self.max_ece is not None and not 0 < self.max_ece <= 1):
            raise InvalidInputError("gate needs margin >= 0 and max_ece in (0, 1]")


@dataclass(frozen=True, slots=True)
class CandidateScores:
    """Out-of-sample scores of one model: per fold, on the folds named by ``folds_key``."""

    metric: str
    fold_scores: tuple[float, ...]
    folds_key: str
    ece: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "fold_scores", tuple(float(s) for s in self.fold_scores))
        if not self.fold_scores or not all(math.isfinite(s) for s in self.fold_scores):
            raise InvalidInputError("candidate scores need at least one finite fold score")

    @property
    def mean(self) -> float:
        return sum(self.fold_scores) / len(self.fold_scores)


@dataclass(frozen=True, slots=True)
class GateDecision:
    promote: bool
    reasons: tuple[str, ...]
    challenger_score: float
    champion_score: float | None

    def as_payload(self) -> dict[str, object]:
        return {
            "promote": self.promote,
            "reasons": list(self.reasons),
            "challenger_score": self.challenger_score,
            "champion_score": self.champion_score,
        }


def decide_promotion(
    challenger: CandidateScores, champion: CandidateScores | None, criteria: GateCriteria
) -> GateDecision:
    """Promote or refuse, with every reason that applied."""
    reasons: list[str] = []
    ok = True
    if challenger.metric != criteria.metric:
        ok = False
        reasons.append(
            f"challenger is scored on {challenger.metric!r}, the gate on {criteria.metric!r}"
        )
    if criteria.max_ece is not None:
        if challenger.ece is None:
            ok = False
            reasons.append("challenger has no calibration (ECE) score")
        elif challenger.ece > criteria.max_ece:
            ok = False
            reasons.append(f"calibration fails: ECE {challenger.ece:.4f} > {criteria.max_ece:.4f}")
        else:
            reasons.append(
                f"calibration passes: ECE {challenger.ece:.4f} <= {criteria.max_ece:.4f}"
            )
    if criteria.floor is not None:
        sign = 1.0 if criteria.higher_is_better else -1.0
        if sign * (challenger.mean - criteria.floor) <= 0:
            ok = False
            reasons.append(f"{criteria.metric} {challenger.mean:.4f} does not beat the floor "
                           f"{criteria.floor:.4f}")  # fmt: skip
    if champion is None:
        reasons.append("no champion yet")
        return GateDecision(ok, tuple(reasons), challenger.mean, None)
    if champion.folds_key != challenger.folds_key or len(champion.fold_scores) != len(
        challenger.fold_scores
    ):
        ok = False
        reasons.append(
            f"not comparable: champion scored on folds {champion.folds_key[:12]}, "
            f"challenger on {challenger.folds_key[:12]}"
        )
    sign = 1.0 if criteria.higher_is_better else -1.0
    gain = sign * (challenger.mean - champion.mean)
    if gain > criteria.margin:
        reasons.append(
            f"{criteria.metric} {challenger.mean:.4f} beats champion {champion.mean:.4f} "
            f"by {gain:.4f} > margin {criteria.margin:.4f}"
        )
    else:
        ok = False
        reasons.append(
            f"{criteria.metric} {challenger.mean:.4f} does not beat champion {champion.mean:.4f} "
            f"by more than margin {criteria.margin:.4f}"
        )
    return GateDecision(ok, tuple(reasons), challenger.mean, champion.mean)
