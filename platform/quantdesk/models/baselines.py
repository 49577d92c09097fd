"""Baselines scored on the same purged walk-forward folds as the hybrid.

- ``always_flat``: never trades (forecast 0); probabilities are the training class shares.
- ``momentum_sign``: trades the sign of the latest return feature; probabilities are the
  training class shares given that sign.
- ``logistic``: multinomial logistic regression (scaled on train) and
- ``gradient_boosting``: histogram gradient-boosted trees, both on each feature's last value
  and window mean.

The classifiers' forecast is ``P(up) - P(down)``. A model is worth keeping only when it beats
these out of sample, after costs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from quantdesk.domain.errors import InvalidInputError
from quantdesk.features.datasets import WindowedDataset
from quantdesk.features.splits import WalkForwardFold, WalkForwardSpec, walk_forward_splits
from quantdesk.models.architecture import N_CLASSES
from quantdesk.models.evaluation import EvaluationReport, evaluate_on_samples

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
MOMENTUM_FEATURES = ("logret_1", "ret_1")

# fit(train x, train classes, test x, seed) -> test class probabilities (n, 3), forecast (n,)
Baseline = Callable[[FloatArray, IntArray, FloatArray, int], tuple[FloatArray, FloatArray]]


@dataclass(frozen=True, slots=True)
class BaselineResult:
    name: str
    report: EvaluationReport
    fold_reports: tuple[EvaluationReport, ...]


def _class_shares(y: IntArray) -> FloatArray:
    counts = np.bincount(y, minlength=N_CLASSES).astype(np.float64) + 1.0
    shares: FloatArray = counts / counts.sum()
    return shares


def always_flat(
    x: FloatArray, y: IntArray, x_test: FloatArray, seed: int
) -> tuple[FloatArray, FloatArray]:
    shares = _class_shares(y)
    return np.tile(shares, (len(x_test), 1)), np.zeros(len(x_test))


def momentum_sign(feature: int) -> Baseline:
    def fit(
        x: FloatArray, y: IntArray, x_test: FloatArray, seed: int
    ) -> tuple[FloatArray, FloatArray]:
        train_sign = np.sign(x[:, -1, feature])
        test_sign = np.sign(x_test[:, -1, feature])
        probs = np.empty((len(x_test), N_CLASSES))
        for sign in (-1.0, 0.0, 1.0):
            probs[test_sign == sign] = _class_shares(y[train_sign == sign])
        return probs, test_sign

    return fit


def _full_probabilities(classes: IntArray, probs: FloatArray) -> FloatArray:
    full = np.zeros((len(probs), N_CLASSES))
    full[:, classes] = probs
    return full


def _summarise(windows: FloatArray) -> FloatArray:
    return np.concatenate([windows[:, -1, :], windows.mean(axis=1)], axis=1)


def logistic(
    x: FloatArray, y: IntArray, x_test: FloatArray, seed: int
) -> tuple[FloatArray, FloatArray]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(
        StandardScaler(), LogisticRegression(max_iter=500, C=0.1, random_state=seed)
    )
    model.fit(x.reshape(len(x), -1), y)
    probs = _full_probabilities(
        model.classes_, model.predict_proba(x_test.reshape(len(x_test), -1))
    )
    return probs, probs[:, 2] - probs[:, 0]


def gradient_boosting(
    x: FloatArray, y: IntArray, x_test: FloatArray, seed: int
) -> tuple[FloatArray, FloatArray]:
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(max_iter=100, learning_rate=0.05, max_leaf_nodes=15,
                                           random_state=seed)  # fmt: skip
    model.fit(_summarise(x), y)
    probs = _full_probabilities(model.classes_, model.predict_proba(_summarise(x_test)))
    return probs, probs[:, 2] - probs[:, 0]


def default_baselines(feature_names: tuple[str, ...]) -> dict[str, Baseline]:
    baselines: dict[str, Baseline] = {"always_flat": always_flat}
    momentum = next((f for f in MOMENTUM_FEATURES if f in feature_names), None)
    if momentum is not None:
        baselines["momentum_sign"] = momentum_sign(feature_names.index(momentum))
    baselines["logistic"] = logistic
    baselines["gradient_boosting"] = gradient_boosting
    return baselines


def run_baselines(
    dataset: WindowedDataset,
    spec: WalkForwardSpec,
    cost_rates: Mapping[str, float],
    *,
    baselines: Mapping[str, Baseline] | None = None,
    seed: int = 7,
    periods_per_year: float = 252.0,
    threads: int = 1,
) -> tuple[BaselineResult, ...]:
    """Fit every baseline on each fold's training (+ validation) part, score its test part.

    BLAS/OpenMP pools are capped at ``threads`` (default 1): these fits are small, and on a
    busy machine a second spinning thread made them twenty times slower (measured).
    """
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    with threadpool_limits(limits=threads):
        return _run_all(dataset, spec, cost_rates, baselines, seed, periods_per_year)


def _run_all(
    dataset: WindowedDataset,
    spec: WalkForwardSpec,
    cost_rates: Mapping[str, float],
    baselines: Mapping[str, Baseline] | None,
    seed: int,
    periods_per_year: float,
) -> tuple[BaselineResult, ...]:
    chosen = dict(baselines or default_baselines(dataset.feature_names))
    if not chosen:
        raise InvalidInputError("no baselines to run")
    folds = walk_forward_splits(dataset.n_times, spec)
    results = []
    for name, fit in chosen.items():
        fold_reports, parts = [], []
        for fold in folds:
            test_idx, probs, forecast = _run_fold(dataset, fold, fit, seed)
            fold_reports.append(
                evaluate_on_samples(
                    dataset, test_idx, probs, forecast, cost_rates, periods_per_year
                )
            )
            parts.append((test_idx, probs, forecast))
        idx = np.concatenate([p[0] for p in parts])
        probabilities = np.concatenate([p[1] for p in parts])
        forecast = np.concatenate([p[2] for p in parts])
        pooled = evaluate_on_samples(
            dataset, idx, probabilities, forecast, cost_rates, periods_per_year
        )
        results.append(BaselineResult(name, pooled, tuple(fold_reports)))
    return tuple(results)


def _run_fold(
    dataset: WindowedDataset, fold: WalkForwardFold, fit: Baseline, seed: int
) -> tuple[IntArray, FloatArray, FloatArray]:
    # Baselines need no early stopping, so validation samples join training (still purged).
    train_idx = np.concatenate(
        [fold.train.select(dataset.time_positions), fold.validation.select(dataset.time_positions)]
    )
    test_idx = fold.test.select(dataset.time_positions)
    x_train = dataset.x[train_idx].astype(np.float64)
    x_test = dataset.x[test_idx].astype(np.float64)
    probs, forecast = fit(x_train, dataset.direction[train_idx], x_test, seed)
    return test_idx, probs, forecast
