"""The hybrid's architecture as a frozen, JSON-able value (no torch), stored with every model."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from quantdesk.config import ModelSettings
from quantdesk.domain.errors import InvalidInputError

N_CLASSES = 3


@dataclass(frozen=True, slots=True)
class HybridArchitecture:
    """CNN (channels, kernels, dilations) -> LSTM -> attention -> class and return heads."""

    n_features: int
    conv_channels: tuple[int, ...] = (16, 16)
    kernel_sizes: tuple[int, ...] = (3, 3)
    dilations: tuple[int, ...] = (1, 2)
    lstm_hidden: int = 32
    lstm_layers: int = 1
    dropout: float = 0.1

    def __post_init__(self) -> None:
        for name in ("conv_channels", "kernel_sizes", "dilations"):
            object.__setattr__(self, name, tuple(int(v) for v in getattr(self, name)))
        lengths = {len(self.conv_channels), len(self.kernel_sizes), len(self.dilations)}
        problems = []
        if len(lengths) != 1:
            problems.append("conv_channels, kernel_sizes and dilations need equal lengths")
        if self.n_features < 1 or self.lstm_hidden < 1 or self.lstm_layers < 1:
            problems.append("n_features, lstm_hidden and lstm_layers must be >= 1")
        if any(v < 1 for v in (*self.conv_channels, *self.kernel_sizes, *self.dilations)):
            problems.append("channels, kernel sizes and dilations must be >= 1")
        if not 0.0 <= self.dropout < 1.0:
            problems.append("dropout must be in [0, 1)")
        if problems:
            raise InvalidInputError("hybrid architecture: " + "; ".join(problems))

    @classmethod
    def from_settings(cls, settings: ModelSettings, n_features: int) -> HybridArchitecture:
        return cls(
            n_features=n_features,
            conv_channels=settings.conv_channels,
            kernel_sizes=settings.kernel_sizes,
            dilations=settings.dilations,
            lstm_hidden=settings.lstm_hidden,
            lstm_layers=settings.lstm_layers,
            dropout=settings.dropout,
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HybridArchitecture:
        return cls(**data)
