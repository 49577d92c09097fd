"""Data-parallel training of one walk-forward fold with Ray Train (TorchTrainer, DDP on CPU).

The same loop as :mod:`quantdesk.models.training`, split across ``num_workers`` processes:
each worker takes every ``num_workers``-th sample of each shuffled batch, gradients are
averaged by DDP (gloo), and every worker computes the full validation loss on identical
weights, so all of them agree on early stopping. Rank 0 reports the best weights as a
checkpoint. Use it when one fold's training no longer fits one machine's time budget; the
single-process path stays the default (and is what the tests pin down bit for bit).
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from quantdesk.config import Settings
from quantdesk.domain.errors import InvalidInputError
from quantdesk.features.datasets import FeatureScaler, WindowedDataset
from quantdesk.features.splits import WalkForwardFold
from quantdesk.models.architecture import HybridArchitecture
from quantdesk.models.training import FittedHybrid, TrainingConfig

WEIGHTS = "weights.pt"


@dataclass(frozen=True, slots=True, eq=False)
class DataParallelOutcome:
    model: FittedHybrid
    validation_losses: tuple[float, ...]
    best_epoch: int
    workers: int


def _worker_loop(config: dict[str, Any]) -> None:  # runs inside each Ray Train worker
    import torch
    from ray import train
    from ray.train.torch import prepare_model

    from quantdesk.models.hybrid import HybridNet, joint_loss

    context = train.get_context()
    rank, world = context.get_world_rank(), context.get_world_size()
    tc = TrainingConfig(**config["training"])
    torch.manual_seed(tc.seed)
    torch.set_num_threads(1)
    network = prepare_model(HybridNet(HybridArchitecture.from_dict(config["architecture"])))
    optimizer = torch.optim.Adam(network.parameters(), lr=tc.learning_rate,
                                 weight_decay=tc.weight_decay)  # fmt: skip
    x, y, r = (torch.from_numpy(config[k]) for k in ("x_train", "y_train", "r_train"))
    xv, yv, rv = (torch.from_numpy(config[k]) for k in ("x_val", "y_val", "r_val"))
    generator = torch.Generator().manual_seed(tc.seed)  # same order on every worker
    best, best_epoch, waited = float("inf"), 0, 0
    for epoch in range(1, tc.max_epochs + 1):
        network.train()
        order = torch.randperm(len(x), generator=generator)
        for start in range(0, len(order), tc.batch_size):
            batch = order[start : start + tc.batch_size][rank::world]
            optimizer.zero_grad()
            loss = joint_loss(network(x[batch]), y[batch], r[batch],
                              tc.classification_weight, tc.regression_weight)  # fmt: skip
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
        network.eval()
        with torch.no_grad():
            val = float(joint_loss(network(xv), yv, rv, tc.classification_weight,
                                   tc.regression_weight))  # fmt: skip
        checkpoint = None
        improved = val < best - 1e-6
        if improved:
            best, best_epoch, waited = val, epoch, 0
            if rank == 0:
                folder = tempfile.mkdtemp(prefix="quantdesk-ddp-")
                inner = getattr(network, "module", network)  # unwrap DDP
                torch.save(inner.state_dict(), Path(folder) / WEIGHTS)
                checkpoint = train.Checkpoint.from_directory(folder)
        else:
            waited += 1
        train.report({"epoch": epoch, "validation_loss": val, "best_epoch": best_epoch},
                     checkpoint=checkpoint)  # fmt: skip
        if waited >= tc.patience:
            break


def train_fold_data_parallel(
    settings: Settings,
    dataset: WindowedDataset,
    fold: WalkForwardFold,
    architecture: HybridArchitecture,
    config: TrainingConfig,
    *,
    num_workers: int = 2,
) -> DataParallelOutcome:
    """Train ``fold`` on ``num_workers`` Ray Train workers; the best weights come back."""
    import torch
    from ray.train import RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    from quantdesk.models.hybrid import HybridNet
    from quantdesk.ray_runtime import start_ray

    train_idx = fold.train.select(dataset.time_positions)
    val_idx = fold.validation.select(dataset.time_positions)
    if len(train_idx) < num_workers or len(val_idx) == 0:
        raise InvalidInputError("data-parallel training needs training and validation samples")
    scaler = FeatureScaler.fit(dataset.x[train_idx], dataset.feature_names)
    scale = float(np.std(dataset.forward_return[train_idx])) or 1.0
    loop_config = {
        "training": asdict(config),
        "architecture": architecture.to_dict(),
        "x_train": scaler.transform(dataset.x[train_idx]),
        "y_train": dataset.direction[train_idx],
        "r_train": (dataset.forward_return[train_idx] / scale).astype(np.float32),
        "x_val": scaler.transform(dataset.x[val_idx]),
        "y_val": dataset.direction[val_idx],
        "r_val": (dataset.forward_return[val_idx] / scale).astype(np.float32),
    }
    start_ray(settings)
    trainer = TorchTrainer(
        _worker_loop,
        train_loop_config=loop_config,
        scaling_config=ScalingConfig(num_workers=num_workers, use_gpu=False,
                                     resources_per_worker={"CPU": 1}),
        run_config=RunConfig(name=f"hybrid-ddp-fold{fold.index}",
                             storage_path=str((settings.home / "ray_results").resolve())),
    )  # fmt: skip
    result = trainer.fit()
    if result.checkpoint is None:
        raise InvalidInputError("data-parallel training produced no checkpoint")
    with result.checkpoint.as_directory() as folder:
        state = torch.load(Path(folder) / WEIGHTS, weights_only=True)
    network = HybridNet(architecture)
    network.load_state_dict(state)
    network.eval()
    history = result.metrics_dataframe
    losses = tuple(float(v) for v in history["validation_loss"]) if history is not None else ()
    model = FittedHybrid(network, scaler, scale, 1.0, dataset.config.window)
    best_epoch = int(result.metrics.get("best_epoch", 0)) if result.metrics else 0
    return DataParallelOutcome(model, losses, best_epoch, num_workers)
