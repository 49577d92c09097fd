"""Agent actions to portfolio weights over (cash, asset 1, ..., asset N), all on the simplex.

Pure NumPy on small vectors: called once per environment step.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def softmax_weights(action: FloatArray, scale: float) -> FloatArray:
    """``softmax(scale * action)``: every action maps to a fully invested long-only mix."""
    z = np.multiply(action, scale, dtype=np.float64)
    z = np.exp(z - z.max())
    out: FloatArray = z / z.sum()
    return out


def simplex_projection(action: FloatArray) -> FloatArray:
    """Euclidean projection onto the probability simplex (allows exact zeros).

    The sort-based algorithm of Held, Wolfe and Crowder; an all-equal input maps to equal
    weights.
    """
    v = np.asarray(action, dtype=np.float64)
    u = np.sort(v)[::-1]
    cumulative = np.cumsum(u) - 1.0
    ranks = np.arange(1, len(v) + 1)
    rho = int(np.nonzero(u - cumulative / ranks > 0)[0][-1])
    theta = cumulative[rho] / (rho + 1)
    return np.asarray(np.maximum(v - theta, 0.0), dtype=np.float64)


def discrete_weights(levels: npt.NDArray[np.int64]) -> FloatArray:
    """Integer allocation levels normalized to weights; all zero means all cash."""
    raw = np.asarray(levels, dtype=np.float64)
    total = raw.sum()
    if total <= 0:
        out = np.zeros(len(raw))
        out[0] = 1.0
        return out
    return np.asarray(raw / total, dtype=np.float64)
