"""Causal 1-D convolutions over time: each output step sees only its own and earlier steps."""

from __future__ import annotations

import torch
from torch import nn


class CausalConvBlock(nn.Module):
    """Conv1d padded on the left only (so no step sees the future), ReLU, dropout."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, dilation: int, dropout: float
    ) -> None:
        super().__init__()
        self.left_pad = (kernel_size - 1) * dilation
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, dilation=dilation)
        self.activation = nn.ReLU()
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (batch, channels, time)
        padded = nn.functional.pad(x, (self.left_pad, 0))
        return self.dropout(self.activation(self.conv(padded)))  # type: ignore[no-any-return]


class TemporalCNN(nn.Module):
    """A stack of causal conv blocks mapping (batch, time, features) to (batch, time, channels)."""

    def __init__(
        self,
        n_features: int,
        channels: tuple[int, ...],
        kernel_sizes: tuple[int, ...],
        dilations: tuple[int, ...],
        dropout: float,
    ) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        width = n_features
        for out, kernel, dilation in zip(channels, kernel_sizes, dilations, strict=True):
            blocks.append(CausalConvBlock(width, out, kernel, dilation, dropout))
            width = out
        self.blocks = nn.Sequential(*blocks)
        self.out_channels = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(x.transpose(1, 2)).transpose(1, 2)  # type: ignore[no-any-return]
