"""Probability calibration: temperature scaling, expected calibration error, reliability curve.

Pure numpy: the temperature is fitted on validation logits by minimising the negative
log-likelihood over a log-spaced grid refined by golden-section search (one parameter, so no
optimizer library is needed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from quantdesk.domain.errors import InvalidInputError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def softmax(logits: npt.ArrayLike, temperature: float = 1.0) -> FloatArray:
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True), dtype=np.float64)


def negative_log_likelihood(
    logits: npt.ArrayLike, labels: npt.ArrayLike, temperature: float
) -> float:
    probs = softmax(logits, temperature)
    y = np.asarray(labels, dtype=np.int64)
    return float(-np.mean(np.log(np.clip(probs[np.arange(len(y)), y], 1e-12, 1.0))))


def fit_temperature(
    logits: npt.ArrayLike, labels: npt.ArrayLike, bounds: tuple[float, float] = (0.05, 20.0)
) -> float:
    """The temperature T > 0 minimising validation NLL of ``softmax(logits / T)``."""
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    if z.ndim != 2 or len(z) != len(y) or len(y) == 0:
        raise InvalidInputError("fit_temperature needs (n, classes) logits and n labels, n > 0")
    grid = np.exp(np.linspace(math.log(bounds[0]), math.log(bounds[1]), 41))
    losses = [negative_log_likelihood(z, y, t) for t in grid]
    best = int(np.argmin(losses))
    lo = math.log(grid[max(best - 1, 0)])
    hi = math.log(grid[min(best + 1, len(grid) - 1)])
    ratio = (math.sqrt(5) - 1) / 2
    for _ in range(40):
        a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        if negative_log_likelihood(z, y, math.exp(a)) < negative_log_likelihood(z, y, math.exp(b)):
            hi = b
        else:
            lo = a
    return float(math.exp((lo + hi) / 2))


@dataclass(frozen=True, slots=True, eq=False)
class ReliabilityCurve:
    """Per confidence bin: mean confidence, accuracy and sample count (empty bins omitted)."""

    confidence: FloatArray
    accuracy: FloatArray
    count: IntArray


def reliability_curve(
    probabilities: npt.ArrayLike, labels: npt.ArrayLike, bins: int = 10
) -> ReliabilityCurve:
    """Bin predictions by top-class confidence and compare with how often they were right."""
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    if p.ndim != 2 or len(p) != len(y):
        raise InvalidInputError("reliability needs (n, classes) probabilities and n labels")
    confidence = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    conf, acc, cnt = [], [], []
    for b in range(bins):
        in_bin = which == b
        if in_bin.any():
            conf.append(confidence[in_bin].mean())
            acc.append(correct[in_bin].mean())
            cnt.append(int(in_bin.sum()))
    return ReliabilityCurve(np.asarray(conf), np.asarray(acc), np.asarray(cnt, dtype=np.int64))


def expected_calibration_error(
    probabilities: npt.ArrayLike, labels: npt.ArrayLike, bins: int = 10
) -> float:
    """Count-weighted mean |accuracy - confidence| over the reliability bins."""
    curve = reliability_curve(probabilities, labels, bins)
    if curve.count.sum() == 0:
        return 0.0
    gaps = np.abs(curve.accuracy - curve.confidence)
    return float(np.sum(gaps * curve.count) / curve.count.sum())
