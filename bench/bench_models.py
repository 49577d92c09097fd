"""Hybrid training throughput vs a plain torch loop, and MC-dropout latency for one symbol.

Training: the same network, data, batch size, optimiser and epochs, run once through
``train_walk_forward`` (one fold: scaler fit, per-epoch validation loss and early-stopping
bookkeeping, temperature fit, test scoring) and once as a bare loop of forward, loss,
backward and step. The ratio is the pipeline's overhead (goal: within 10%).

Inference: ``mc_dropout_predict`` of one symbol's latest window with 30 passes (all passes
in one batch) against the naive loop of 30 separate dropout-on forward passes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from bench.measure import Measurement, best_of
from quantdesk.features.datasets import (
    FeatureScaler,
    LabelArrays,
    WindowConfig,
    WindowedDataset,
    build_windows,
)
from quantdesk.features.splits import WalkForwardSpec, walk_forward_splits
from quantdesk.models.architecture import HybridArchitecture
from quantdesk.models.hybrid import HybridNet, joint_loss
from quantdesk.models.training import TrainingConfig, seed_everything, train_walk_forward
from quantdesk.models.uncertainty import mc_dropout_predict

N_TIMES, N_SYMBOLS, N_FEATURES, WINDOW = 1500, 2, 16, 32
EPOCHS, BATCH, PASSES = 3, 128, 30
SPEC = WalkForwardSpec(
    n_folds=1, test_size=100, validation_size=100, min_train_size=1000, label_horizon=1, embargo=0
)
ARCH = HybridArchitecture(
    n_features=N_FEATURES,
    conv_channels=(16, 16),
    kernel_sizes=(3, 3),
    dilations=(1, 2),
    lstm_hidden=32,
    dropout=0.1,
)
CONFIG = TrainingConfig(
    learning_rate=1e-3, batch_size=BATCH, max_epochs=EPOCHS, patience=EPOCHS, seed=7, threads=1
)


def _dataset() -> WindowedDataset:

    rng = np.random.default_rng(0)
    rows = N_TIMES * N_SYMBOLS
    frame = pd.DataFrame(
        rng.standard_normal((rows, N_FEATURES)), columns=[f"f{i}" for i in range(N_FEATURES)]
    )
    frame["symbol"] = np.repeat(["AAA", "BBB"], N_TIMES)
    frame["timestamp"] = np.tile(pd.date_range("2020-01-01", periods=N_TIMES, tz="UTC"), N_SYMBOLS)
    forward = rng.standard_normal(rows) * 0.01
    labels = LabelArrays(forward, np.digitize(forward, [-0.004, 0.004]).astype(np.int64))
    config = WindowConfig(window=WINDOW, features=tuple(f"f{i}" for i in range(N_FEATURES)))
    return build_windows(frame, labels, config)


def run() -> list[Measurement]:
    torch.set_num_threads(1)
    data = _dataset()
    fold = walk_forward_splits(data.n_times, SPEC)[0]
    train_idx = fold.train.select(data.time_positions)
    costs = {"AAA": 0.0005, "BBB": 0.0005}

    def ours() -> None:
        train_walk_forward(data, SPEC, ARCH, CONFIG, costs)

    scaler = FeatureScaler.fit(data.x[train_idx], data.feature_names)
    x = torch.from_numpy(scaler.transform(data.x[train_idx]))
    y = torch.from_numpy(data.direction[train_idx])
    returns = data.forward_return[train_idx]
    r = torch.from_numpy((returns / returns.std()).astype(np.float32))

    def plain() -> None:
        seed_everything(CONFIG.seed, 1)
        net = HybridNet(ARCH)
        optimizer = torch.optim.Adam(net.parameters(), lr=CONFIG.learning_rate)
        generator = torch.Generator().manual_seed(CONFIG.seed)
        net.train()
        for _ in range(EPOCHS):
            order = torch.randperm(len(x), generator=generator)
            for start in range(0, len(order), BATCH):
                batch = order[start : start + BATCH]
                optimizer.zero_grad()
                loss = joint_loss(net(x[batch]), y[batch], r[batch], 1.0, 1.0)
                loss.backward()  # type: ignore[no-untyped-call]
                optimizer.step()

    samples = len(train_idx) * EPOCHS
    train_ours, train_plain = best_of(ours, repeat=5), best_of(plain, repeat=5)

    net = HybridNet(ARCH).eval()
    window = data.x[-1:].astype(np.float32)

    def mc_ours() -> None:
        mc_dropout_predict(net, window, passes=PASSES)

    def mc_naive() -> None:
        mc_dropout_predict(net, window, passes=PASSES, batch_size=1)

    return [
        Measurement(
            f"hybrid training, {samples} samples x epochs",
            train_ours,
            train_plain,
            "plain torch loop",
            unit_count=samples,
            unit="samples",
        ),
        Measurement(
            f"MC dropout {PASSES} passes, 1 symbol",
            best_of(mc_ours, repeat=20),
            best_of(mc_naive, repeat=20),
            f"{PASSES} separate passes",
        ),
    ]
