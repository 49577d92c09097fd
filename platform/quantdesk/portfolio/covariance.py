"""Covariance estimates the optimizers run on: Ledoit-Wolf shrinkage by default.

A sample covariance of a few hundred days of a dozen assets is noisy enough that optimizers
chase its errors; shrinking towards a scaled identity (scikit-learn's ``LedoitWolf``, which
picks the intensity analytically) gives steadier weights.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from quantdesk.domain.errors import InvalidInputError


def complete_returns(returns: pd.DataFrame, min_rows: int = 10) -> pd.DataFrame:
    """Rows where every column has a return; raise if too few remain."""
    frame = returns.dropna()
    if frame.shape[1] < 1:
        raise InvalidInputError("returns need at least one column (symbol)")
    if len(frame) < min_rows:
        raise InvalidInputError(
            f"need at least {min_rows} rows with a return for every symbol, got {len(frame)}"
        )
    if not np.isfinite(frame.to_numpy(dtype=np.float64)).all():
        raise InvalidInputError("returns contain infinite values")
    return frame


def shrunk_covariance(returns: pd.DataFrame) -> pd.DataFrame:
    """Ledoit-Wolf covariance of per-period returns (columns are symbols)."""
    from sklearn.covariance import LedoitWolf

    frame = complete_returns(returns)
    estimate = LedoitWolf().fit(frame.to_numpy(dtype=np.float64))
    cov = np.asarray(estimate.covariance_, dtype=np.float64)
    return pd.DataFrame(cov, index=frame.columns, columns=frame.columns)


def check_covariance(cov: pd.DataFrame) -> np.ndarray:
    """The matrix as a symmetric array; raise if it is not square, finite and PSD."""
    values: np.ndarray = cov.to_numpy(dtype=np.float64)
    if values.ndim != 2 or values.shape[0] != values.shape[1] or values.shape[0] == 0:
        raise InvalidInputError(f"covariance must be a non-empty square matrix, got {values.shape}")
    if list(cov.index) != list(cov.columns):
        raise InvalidInputError("covariance rows and columns must name the same symbols in order")
    if not np.isfinite(values).all():
        raise InvalidInputError("covariance contains non-finite values")
    values = (values + values.T) / 2
    if np.linalg.eigvalsh(values).min() < -1e-10 * max(1.0, float(np.abs(values).max())):
        raise InvalidInputError("covariance is not positive semi-definite")
    return values
