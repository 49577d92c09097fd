"""Hybrid model settings small enough for tests: every code path runs, nothing takes long."""

from __future__ import annotations

from typing import Any

TINY_HYBRID: dict[str, Any] = {
    "window": 8,
    "conv_channels": (8,),
    "kernel_sizes": (3,),
    "dilations": (1,),
    "lstm_hidden": 8,
    "max_epochs": 2,
    "n_folds": 2,
    "test_size": 60,
    "validation_size": 40,
    "min_train_size": 150,
    "max_ece": 0.5,
    "promotion_floor_ic": None,  # tiny models: the floor has its own test
}
