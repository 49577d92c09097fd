"""Purged, embargoed walk-forward splits: no overlap, no label reaching ahead, moving forward."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from quantdesk.domain.errors import InvalidInputError
from quantdesk.features.splits import (
    IndexRange,
    WalkForwardSpec,
    purge_training_positions,
    purged_kfold_splits,
    walk_forward_splits,
)

SPEC = WalkForwardSpec(
    n_folds=4, test_size=30, validation_size=20, min_train_size=60, label_horizon=3, embargo=2
)


def test_walk_forward_segments_never_overlap_and_are_time_ordered() -> None:
    # Arrange / Act
    folds = walk_forward_splits(400, SPEC)

    # Assert
    for fold in folds:
        assert fold.train.stop <= fold.validation.start
        assert fold.validation.stop <= fold.test.start
        train, val, test = (
            set(r.positions().tolist()) for r in (fold.train, fold.validation, fold.test)
        )
        assert not (train & val) and not (train & test) and not (val & test)


def test_walk_forward_purge_and_embargo_leave_a_gap_the_labels_cannot_cross() -> None:
    # Arrange / Act
    folds = walk_forward_splits(400, SPEC)

    # Assert: the last train label ends before validation starts, with the embargo to spare.
    h, e = SPEC.label_horizon, SPEC.embargo
    for fold in folds:
        last_train, last_val = fold.train.stop - 1, fold.validation.stop - 1
        assert last_train + h < fold.validation.start
        assert fold.validation.start - (last_train + h) == e + 1
        assert last_val + h < fold.test.start
        assert fold.test.start - fold.validation.stop == h + e


def test_walk_forward_folds_move_forward_and_tile_the_end() -> None:
    # Arrange / Act
    folds = walk_forward_splits(400, SPEC)

    # Assert
    assert [f.index for f in folds] == [0, 1, 2, 3]
    for before, after in itertools.pairwise(folds):
        assert after.test.start == before.test.stop
        assert after.train.stop > before.train.stop
        assert after.validation.start > before.validation.start
    assert folds[-1].test.stop == 400
    assert len(folds[0].train) >= SPEC.min_train_size


def test_walk_forward_max_train_size_slides_the_window() -> None:
    # Arrange
    spec = WalkForwardSpec(n_folds=3, test_size=50, validation_size=0, min_train_size=80,
                           max_train_size=100, label_horizon=1)  # fmt: skip

    # Act
    folds = walk_forward_splits(500, spec)

    # Assert
    assert all(len(f.train) == 100 for f in folds)
    assert folds[1].train.start > folds[0].train.start
    assert all(len(f.validation) == 0 and f.train.stop == f.test.start - 1 for f in folds)


def test_walk_forward_too_short_series_raises_naming_the_need() -> None:
    # Arrange / Act / Assert
    with pytest.raises(InvalidInputError, match=f"at least {SPEC.required_times()}"):
        walk_forward_splits(SPEC.required_times() - 1, SPEC)


def test_walk_forward_spec_invalid_values_raise() -> None:
    with pytest.raises(InvalidInputError, match="test_size"):
        WalkForwardSpec(test_size=0)


def test_walk_forward_spec_is_frozen() -> None:
    with pytest.raises(AttributeError):
        SPEC.n_folds = 2  # type: ignore[misc]


def test_index_range_select_maps_time_positions_to_samples() -> None:
    # Arrange: two symbols sharing the time axis, rows interleaved.
    times = np.array([0, 0, 1, 1, 2, 2, 3, 3])

    # Act
    picked = IndexRange(1, 3).select(times)

    # Assert
    assert picked.tolist() == [2, 3, 4, 5]


def test_purge_training_positions_drops_overlapping_labels_and_embargo() -> None:
    # Arrange
    candidates = np.arange(100)
    window = IndexRange(40, 50)

    # Act
    kept = set(purge_training_positions(candidates, window, label_horizon=3, embargo=5).tolist())

    # Assert: 37..39 purged (labels reach 40), 40..52 overlap the window's labels, 53..57 embargo.
    assert kept == set(range(37)) | set(range(58, 100))


def test_purged_kfold_train_labels_never_touch_the_test_block() -> None:
    # Arrange / Act
    folds = purged_kfold_splits(200, n_folds=5, label_horizon=4, embargo=3)

    # Assert
    for fold in folds:
        train = np.asarray(fold.train_positions)
        spans_hit = (train + 4 >= fold.test.start) & (train <= fold.test.stop - 1 + 4)
        assert not spans_hit.any()
        after = train[train >= fold.test.stop]
        if len(after):
            assert after.min() >= fold.test.stop + 4 + 3
    assert sum(len(f.test) for f in folds) == 200
