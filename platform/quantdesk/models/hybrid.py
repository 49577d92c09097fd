"""The CNN -> LSTM -> attention hybrid with a down/flat/up head and a forward-return head."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from quantdesk.models.architecture import N_CLASSES, HybridArchitecture
from quantdesk.models.cnn import TemporalCNN
from quantdesk.models.lstm import AttentiveLSTM


class HybridOutput(NamedTuple):
    logits: torch.Tensor  # (batch, 3): down, flat, up
    forecast: torch.Tensor  # (batch,): forward return in training-standardised units
    attention: torch.Tensor  # (batch, time): weights over the window, rows sum to 1


class HybridNet(nn.Module):
    """Conv features per step, an LSTM over them, attention, then two linear heads."""

    def __init__(self, architecture: HybridArchitecture) -> None:
        super().__init__()
        a = architecture
        self.architecture = a
        self.cnn = TemporalCNN(
            a.n_features, a.conv_channels, a.kernel_sizes, a.dilations, a.dropout
        )
        self.sequence = AttentiveLSTM(
            self.cnn.out_channels, a.lstm_hidden, a.lstm_layers, a.dropout
        )
        self.classifier = nn.Linear(self.sequence.summary_size, N_CLASSES)
        self.regressor = nn.Linear(self.sequence.summary_size, 1)

    def forward(self, x: torch.Tensor) -> HybridOutput:
        summary, weights = self.sequence(self.cnn(x))
        return HybridOutput(self.classifier(summary), self.regressor(summary).squeeze(-1), weights)


def joint_loss(
    output: HybridOutput,
    direction: torch.Tensor,
    target: torch.Tensor,
    classification_weight: float,
    regression_weight: float,
) -> torch.Tensor:
    """Weighted cross-entropy (classes) plus mean squared error (standardised return)."""
    ce = nn.functional.cross_entropy(output.logits, direction)
    mse = nn.functional.mse_loss(output.forecast, target)
    return classification_weight * ce + regression_weight * mse
