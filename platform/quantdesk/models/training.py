"""Walk-forward training of the hybrid: one model per purged fold, early stopping, checkpoints.

Each fold fits its scaler and return scale on its own training samples, trains with early
stopping on its validation window, fits a temperature on the validation logits and predicts
its test window, which no step before has seen. Training is seeded per fold and deterministic
on CPU (same seed, same threads: same weights). Tracking (MLflow, Ray Tune) hooks in through
``on_epoch`` and stays out of this module.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from quantdesk.config import Settings
from quantdesk.data.atomic_files import write_file_atomic
from quantdesk.domain.errors import InvalidInputError
from quantdesk.features.datasets import FeatureScaler, WindowedDataset
from quantdesk.features.splits import WalkForwardFold, WalkForwardSpec, walk_forward_splits
from quantdesk.models.architecture import HybridArchitecture
from quantdesk.models.calibration import fit_temperature, softmax
from quantdesk.models.evaluation import (
    EvaluationReport,
    evaluate_on_samples,
    information_coefficient,
)
from quantdesk.models.hybrid import HybridNet, joint_loss

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class TrainingConfig:
    """Optimisation settings of one training run (architecture aside)."""

    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    batch_size: int = 128
    max_epochs: int = 30
    patience: int = 5
    classification_weight: float = 1.0
    regression_weight: float = 1.0
    seed: int = 7
    threads: int = 1

    def __post_init__(self) -> None:
        if self.max_epochs < 1 or self.patience < 1 or self.batch_size < 1 or self.threads < 1:
            raise InvalidInputError("max_epochs, patience, batch_size and threads must be >= 1")
        if self.classification_weight + self.regression_weight <= 0:
            raise InvalidInputError("at least one loss weight must be positive")

    @classmethod
    def from_settings(cls, settings: Settings) -> TrainingConfig:
        m = settings.models
        return cls(
            learning_rate=m.learning_rate,
            weight_decay=m.weight_decay,
            batch_size=m.batch_size,
            max_epochs=m.max_epochs,
            patience=m.patience,
            classification_weight=m.classification_weight,
            regression_weight=m.regression_weight,
            seed=settings.seed,
            threads=settings.torch_threads,
        )


def walk_forward_spec_from_settings(settings: Settings) -> WalkForwardSpec:
    m = settings.models
    return WalkForwardSpec(
        n_folds=m.n_folds,
        test_size=m.test_size,
        validation_size=m.validation_size,
        min_train_size=m.min_train_size,
        label_horizon=settings.features.labels.horizon,
        embargo=m.embargo,
    )


@dataclass(frozen=True, slots=True)
class EpochRecord:
    fold: int
    epoch: int
    train_loss: float
    validation_loss: float
    samples_per_second: float


@dataclass(frozen=True, slots=True, eq=False)
class FittedHybrid:
    """A trained network with everything needed to use it: scaler, scales, features."""

    network: HybridNet
    scaler: FeatureScaler
    target_scale: float
    temperature: float
    window: int

    @property
    def architecture(self) -> HybridArchitecture:
        return self.network.architecture

    @property
    def features(self) -> tuple[str, ...]:
        return self.scaler.features

    def predict(self, x_raw: npt.NDArray[np.floating[Any]]) -> tuple[FloatArray, FloatArray]:
        """Calibrated class probabilities and forecast returns for unscaled windows."""
        logits, forecast = predict_raw(self.network, self.scaler.transform(x_raw))
        return softmax(logits, self.temperature), forecast * self.target_scale


@dataclass(frozen=True, slots=True, eq=False)
class FoldOutcome:
    fold: WalkForwardFold
    epochs: tuple[EpochRecord, ...]
    best_epoch: int
    best_validation_loss: float
    validation_ic: float
    temperature: float
    test_indices: IntArray
    probabilities: FloatArray
    forecast: FloatArray
    report: EvaluationReport
    model: FittedHybrid


@dataclass(frozen=True, slots=True, eq=False)
class WalkForwardResult:
    """Every fold, the pooled out-of-sample report and the deployable (latest) model."""

    folds: tuple[FoldOutcome, ...]
    report: EvaluationReport
    validation_score: float
    test_indices: IntArray
    probabilities: FloatArray
    forecast: FloatArray
    extras: dict[str, float] = field(default_factory=dict)

    @property
    def model(self) -> FittedHybrid:
        """The last fold's model: trained on the most recent data."""
        return self.folds[-1].model

    def fold_metric(self, name: str) -> tuple[float, ...]:
        return tuple(float(getattr(f.report, name)) for f in self.folds)


EpochCallback = Callable[[EpochRecord], None]


def seed_everything(seed: int, threads: int) -> None:
    """Seed numpy and torch, pin the thread count and ask for deterministic kernels."""
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True, warn_only=True)


def predict_raw(
    network: HybridNet, x_scaled: npt.NDArray[np.float32], batch_size: int = 2048
) -> tuple[FloatArray, FloatArray]:
    """Logits and standardised forecasts with dropout off."""
    network.eval()
    logits = np.empty((len(x_scaled), 3))
    forecast = np.empty(len(x_scaled))
    with torch.no_grad():
        tensor = torch.from_numpy(np.ascontiguousarray(x_scaled, dtype=np.float32))
        for start in range(0, len(x_scaled), batch_size):
            out = network(tensor[start : start + batch_size])
            logits[start : start + len(out.forecast)] = out.logits.numpy()
            forecast[start : start + len(out.forecast)] = out.forecast.numpy()
    return logits, forecast


def train_walk_forward(
    dataset: WindowedDataset,
    spec: WalkForwardSpec,
    architecture: HybridArchitecture,
    config: TrainingConfig,
    cost_rates: Mapping[str, float],
    *,
    checkpoint_dir: Path | None = None,
    on_epoch: EpochCallback | None = None,
    on_fold: Callable[[FoldOutcome], None] | None = None,
    periods_per_year: float = 252.0,
) -> WalkForwardResult:
    """Train one model per fold of ``spec`` over ``dataset``; score every test window.

    ``on_fold`` sees each finished fold in order (the tuner reports and prunes there).
    """
    if architecture.n_features != len(dataset.feature_names):
        raise InvalidInputError(
            f"architecture expects {architecture.n_features} features, "
            f"the dataset has {len(dataset.feature_names)}"
        )
    folds = walk_forward_splits(dataset.n_times, spec)
    outcomes: list[FoldOutcome] = []
    for fold in folds:
        outcome = _train_fold(dataset, fold, architecture, config, cost_rates, checkpoint_dir,
                              on_epoch, periods_per_year)  # fmt: skip
        outcomes.append(outcome)
        if on_fold is not None:
            on_fold(outcome)
    indices = np.concatenate([o.test_indices for o in outcomes])
    probabilities = np.concatenate([o.probabilities for o in outcomes])
    forecast = np.concatenate([o.forecast for o in outcomes])
    report = evaluate_on_samples(
        dataset, indices, probabilities, forecast, cost_rates, periods_per_year
    )
    return WalkForwardResult(
        folds=tuple(outcomes),
        report=report,
        validation_score=float(np.mean([o.validation_ic for o in outcomes])),
        test_indices=indices,
        probabilities=probabilities,
        forecast=forecast,
    )


def _tensors(
    x: npt.NDArray[np.float32], direction: IntArray, target: FloatArray
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return (
        torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)),
        torch.from_numpy(direction.astype(np.int64)),
        torch.from_numpy(target.astype(np.float32)),
    )


def _train_fold(
    dataset: WindowedDataset,
    fold: WalkForwardFold,
    architecture: HybridArchitecture,
    config: TrainingConfig,
    cost_rates: Mapping[str, float],
    checkpoint_dir: Path | None,
    on_epoch: EpochCallback | None,
    periods_per_year: float,
) -> FoldOutcome:
    train_idx = fold.train.select(dataset.time_positions)
    val_idx = fold.validation.select(dataset.time_positions)
    test_idx = fold.test.select(dataset.time_positions)
    if len(train_idx) < 2 or len(test_idx) == 0:
        raise InvalidInputError(f"fold {fold.index} has too few samples to train and test")
    scaler = FeatureScaler.fit(dataset.x[train_idx], dataset.feature_names)
    target_scale = float(np.std(dataset.forward_return[train_idx])) or 1.0
    x_train, y_train, r_train = _tensors(
        scaler.transform(dataset.x[train_idx]),
        dataset.direction[train_idx],
        dataset.forward_return[train_idx] / target_scale,
    )
    has_validation = len(val_idx) > 0
    monitor_idx = val_idx if has_validation else train_idx
    x_val, y_val, r_val = _tensors(
        scaler.transform(dataset.x[monitor_idx]),
        dataset.direction[monitor_idx],
        dataset.forward_return[monitor_idx] / target_scale,
    )

    seed_everything(config.seed + 1000 * fold.index, config.threads)
    network = HybridNet(architecture)
    optimizer = torch.optim.Adam(
        network.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    generator = torch.Generator().manual_seed(config.seed + fold.index)
    best_loss, best_epoch, best_state, waited = float("inf"), 0, _state(network), 0
    records: list[EpochRecord] = []
    for epoch in range(1, config.max_epochs + 1):
        started = time.perf_counter()
        network.train()
        order = torch.randperm(len(x_train), generator=generator)
        total = 0.0
        for start in range(0, len(order), config.batch_size):
            batch = order[start : start + config.batch_size]
            optimizer.zero_grad()
            loss = joint_loss(
                network(x_train[batch]), y_train[batch], r_train[batch],
                config.classification_weight, config.regression_weight,
            )  # fmt: skip
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            total += float(loss.detach()) * len(batch)
        elapsed = max(time.perf_counter() - started, 1e-9)
        network.eval()
        with torch.no_grad():
            val_loss = float(
                joint_loss(network(x_val), y_val, r_val,
                           config.classification_weight, config.regression_weight)
            )  # fmt: skip
        record = EpochRecord(fold.index, epoch, total / len(x_train), val_loss,
                             len(x_train) / elapsed)  # fmt: skip
        records.append(record)
        if on_epoch is not None:
            on_epoch(record)
        if val_loss < best_loss - 1e-6:
            best_loss, best_epoch, best_state, waited = val_loss, epoch, _state(network), 0
        else:
            waited += 1
            if waited >= config.patience:
                break
    network.load_state_dict(best_state)
    network.eval()
    if checkpoint_dir is not None:
        _save_checkpoint(checkpoint_dir / f"fold-{fold.index}.pt", best_state)

    val_logits, val_forecast = predict_raw(network, x_val.numpy())
    temperature = fit_temperature(val_logits, y_val.numpy()) if has_validation else 1.0
    validation_ic = information_coefficient(val_forecast, r_val.numpy()) if has_validation else 0.0
    model = FittedHybrid(network, scaler, target_scale, temperature, dataset.config.window)
    probabilities, forecast = model.predict(dataset.x[test_idx])
    report = evaluate_on_samples(
        dataset, test_idx, probabilities, forecast, cost_rates, periods_per_year
    )
    return FoldOutcome(
        fold=fold,
        epochs=tuple(records),
        best_epoch=best_epoch,
        best_validation_loss=best_loss,
        validation_ic=validation_ic,
        temperature=temperature,
        test_indices=test_idx,
        probabilities=probabilities,
        forecast=forecast,
        report=report,
        model=model,
    )


def _state(network: HybridNet) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in network.state_dict().items()}


def _save_checkpoint(path: Path, state: dict[str, torch.Tensor]) -> None:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    payload = buffer.getvalue()
    write_file_atomic(path, lambda handle: handle.write(payload))
