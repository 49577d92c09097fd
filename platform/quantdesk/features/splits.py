"""Purged and embargoed splits over time-ordered samples, so no evaluation ever sees the future.

Positions are *time positions* ``0 .. n_times - 1`` (one per bar time, shared by every symbol
at that time); :meth:`IndexRange.select` maps them onto samples through each sample's time
position, so a multi-symbol dataset splits on time, never on rows.

Conventions
-----------
- A sample at time ``i`` has a label that spans times ``[i, i + label_horizon]`` (a forward
  return from the close of ``i`` to the close of ``i + label_horizon``).
- **Purge.** A training sample is dropped when its label span overlaps an evaluation window's
  label spans ``[e0, e1 - 1 + label_horizon]``: conservatively (closed intervals), so the
  ``label_horizon`` samples right before a window go.
- **Embargo.** ``embargo`` further samples right after an evaluation window (after its last
  label) are dropped from training: features with long look-backs there still carry the
  window's information. A walk-forward layout never trains on anything after its test
  window, so there the embargo widens the gap between consecutive segments
  (train | gap | validation | gap | test): conservative, each segment a clean step ahead.

Walk-forward folds move forward: test windows tile the end of the series in time order, and a
fold's training range only ever grows (expanding) or slides (``max_train_size``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from quantdesk.domain.errors import InvalidInputError

__all__ = [
    "IndexRange",
    "PurgedFold",
    "WalkForwardFold",
    "WalkForwardSpec",
    "purge_training_positions",
    "purged_kfold_splits",
    "walk_forward_splits",
]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class IndexRange:
    """Half-open range of time positions ``[start, stop)``."""

    start: int
    stop: int

    def __post_init__(self) -> None:
        if self.start < 0 or self.stop < self.start:
            raise InvalidInputError(f"invalid index range [{self.start}, {self.stop})")

    def __len__(self) -> int:
        return self.stop - self.start

    def positions(self) -> IntArray:
        """Every time position in the range."""
        return np.arange(self.start, self.stop, dtype=np.int64)

    def mask(self, time_positions: npt.ArrayLike) -> BoolArray:
        """Which samples (given each sample's time position) fall in the range."""
        times = np.asarray(time_positions)
        return np.asarray((times >= self.start) & (times < self.stop), dtype=np.bool_)

    def select(self, time_positions: npt.ArrayLike) -> IntArray:
        """Indices of the samples (given each sample's time position) inside the range."""
        return np.flatnonzero(self.mask(time_positions)).astype(np.int64)


@dataclass(frozen=True, slots=True)
class WalkForwardSpec:
    """How to cut a series into walk-forward folds (all sizes in time positions).

    ``n_folds`` test windows of ``test_size`` tile the end of the series; before each sits a
    validation window of ``validation_size`` (0 for none) and, before that, training of at
    least ``min_train_size`` (all earlier samples, or the last ``max_train_size``).
    """

    n_folds: int = 4
    test_size: int = 100
    validation_size: int = 50
    min_train_size: int = 200
    max_train_size: int | None = None
    label_horizon: int = 1
    embargo: int = 0

    def __post_init__(self) -> None:
        checks = {
            "n_folds must be >= 1": self.n_folds >= 1,
            "test_size must be >= 1": self.test_size >= 1,
            "validation_size must be >= 0": self.validation_size >= 0,
            "min_train_size must be >= 1": self.min_train_size >= 1,
            "label_horizon must be >= 0": self.label_horizon >= 0,
            "embargo must be >= 0": self.embargo >= 0,
            "max_train_size must be >= min_train_size": self.max_train_size is None
            or self.max_train_size >= self.min_train_size,
        }
        failed = [message for message, ok in checks.items() if not ok]
        if failed:
            raise InvalidInputError("walk-forward spec: " + "; ".join(failed))

    @property
    def gap(self) -> int:
        """Positions left out between consecutive segments: purge plus embargo."""
        return self.label_horizon + self.embargo

    def required_times(self) -> int:
        """The fewest time positions that give every fold its minimum training."""
        validation = self.validation_size + self.gap if self.validation_size else 0
        return self.min_train_size + self.gap + validation + self.n_folds * self.test_size


@dataclass(frozen=True, slots=True)
class WalkForwardFold:
    """One walk-forward step: train, then (optionally) validate, then test, in time order."""

    index: int
    train: IndexRange
    validation: IndexRange
    test: IndexRange
    label_horizon: int
    embargo: int


@dataclass(frozen=True, slots=True)
class PurgedFold:
    """One purged k-fold split: a contiguous test block and the purged, embargoed rest."""

    index: int
    train_positions: tuple[int, ...]
    test: IndexRange

    def train_mask(self, time_positions: npt.ArrayLike) -> BoolArray:
        times = np.asarray(time_positions)
        return np.asarray(np.isin(times, np.asarray(self.train_positions)), dtype=np.bool_)


def walk_forward_splits(n_times: int, spec: WalkForwardSpec) -> tuple[WalkForwardFold, ...]:
    """Purged, embargoed walk-forward folds over ``n_times`` time positions.

    Raises :class:`InvalidInputError` when the series is too short for the spec.
    """
    needed = spec.required_times()
    if n_times < needed:
        raise InvalidInputError(
            f"walk-forward needs at least {needed} time positions for {spec}; got {n_times}"
        )
    folds: list[WalkForwardFold] = []
    for k in range(spec.n_folds):
        test_start = n_times - (spec.n_folds - k) * spec.test_size
        test = IndexRange(test_start, test_start + spec.test_size)
        if spec.validation_size:
            val_stop = test_start - spec.gap
            validation = IndexRange(val_stop - spec.validation_size, val_stop)
            train_stop = validation.start - spec.gap
        else:
            validation = IndexRange(test_start, test_start)
            train_stop = test_start - spec.gap
        train_start = 0
        if spec.max_train_size is not None:
            train_start = max(0, train_stop - spec.max_train_size)
        folds.append(
            WalkForwardFold(
                index=k,
                train=IndexRange(train_start, train_stop),
                validation=validation,
                test=test,
                label_horizon=spec.label_horizon,
                embargo=spec.embargo,
            )
        )
    return tuple(folds)


def purge_training_positions(
    candidates: npt.ArrayLike, window: IndexRange, label_horizon: int, embargo: int
) -> IntArray:
    """``candidates`` (time positions) minus those purged or embargoed around ``window``.

    Purged: label span ``[i, i + h]`` overlaps the window's spans ``[e0, e1 - 1 + h]``.
    Embargoed: the ``embargo`` positions right after the window's last label,
    ``e1 + h <= i < e1 + h + embargo``.
    """
    if label_horizon < 0 or embargo < 0:
        raise InvalidInputError("label_horizon and embargo must be >= 0")
    positions = np.asarray(candidates, dtype=np.int64)
    if len(window) == 0:
        return positions
    overlaps = (positions + label_horizon >= window.start) & (
        positions <= window.stop - 1 + label_horizon
    )
    after = window.stop + label_horizon
    embargoed = (positions >= after) & (positions < after + embargo)
    return positions[~(overlaps | embargoed)]


def purged_kfold_splits(
    n_times: int, n_folds: int, label_horizon: int = 1, embargo: int = 0
) -> tuple[PurgedFold, ...]:
    """K contiguous test blocks; training is every other position, purged and embargoed.

    For model selection where data after the test block may be trained on (not a trading
    simulation: use :func:`walk_forward_splits` for that).
    """
    if n_folds < 2 or n_times < n_folds:
        raise InvalidInputError(f"purged k-fold needs 2 <= n_folds <= n_times; got {n_folds}")
    bounds = np.linspace(0, n_times, n_folds + 1).astype(np.int64)
    every = np.arange(n_times, dtype=np.int64)
    folds: list[PurgedFold] = []
    for k in range(n_folds):
        test = IndexRange(int(bounds[k]), int(bounds[k + 1]))
        outside = every[(every < test.start) | (every >= test.stop)]
        kept = purge_training_positions(outside, test, label_horizon, embargo)
        folds.append(PurgedFold(index=k, train_positions=tuple(int(p) for p in kept), test=test))
    return tuple(folds)
