"""Small, seeded synthetic datasets and tiny model settings shared by the model tests."""

from __future__ import annotations

from datetime import UTC, datetime

from quantdesk.data.sources.synthetic import SyntheticConfig, SyntheticMarket
from quantdesk.features.datasets import WindowConfig, WindowedDataset, build_windows
from quantdesk.features.splits import WalkForwardSpec
from quantdesk.models.architecture import HybridArchitecture
from quantdesk.models.synthetic_training_data import synthetic_training_data
from quantdesk.models.training import TrainingConfig

CRYPTO = ("BTC-USD", "ETH-USD", "SOL-USD")
START = datetime(2015, 1, 1, tzinfo=UTC)
COSTS = {"BTC-USD": 0.0005, "ETH-USD": 0.0005, "SOL-USD": 0.0005}


def synthetic_market(signal_strength: float, seed: int = 11) -> SyntheticMarket:
    return SyntheticMarket(
        SyntheticConfig(seed=seed, symbols=CRYPTO, signal_strength=signal_strength, gap_rate=0.0)
    )


def synthetic_dataset(
    market: SyntheticMarket, end: datetime, *, leak: bool = False, window: int = 8
) -> WindowedDataset:
    data = synthetic_training_data(market, START, end, leak=leak)
    return build_windows(
        data.frame, data.labels, WindowConfig(window=window, features=data.features)
    )


def tiny_architecture(n_features: int) -> HybridArchitecture:
    return HybridArchitecture(n_features=n_features, conv_channels=(8,), kernel_sizes=(3,),
                              dilations=(1,), lstm_hidden=8, dropout=0.1)  # fmt: skip


def tiny_training(max_epochs: int = 15, seed: int = 7) -> TrainingConfig:
    return TrainingConfig(learning_rate=3e-3, batch_size=64, max_epochs=max_epochs, patience=3,
                          seed=seed, threads=1)  # fmt: skip


HONESTY_SPEC = WalkForwardSpec(n_folds=3, test_size=150, validation_size=100, min_train_size=300,
                               label_horizon=1, embargo=1)  # fmt: skip
SMALL_SPEC = WalkForwardSpec(n_folds=2, test_size=40, validation_size=30, min_train_size=100,
                             label_horizon=1, embargo=1)  # fmt: skip
