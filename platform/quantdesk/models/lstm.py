"""LSTM over time with additive temporal attention: which past steps the forecast leans on."""

from __future__ import annotations

import torch
from torch import nn


class TemporalAttention(nn.Module):
    """Additive attention over time steps; returns the context and the weights (sum to 1)."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.project = nn.Linear(hidden, hidden)
        self.score = nn.Linear(hidden, 1, bias=False)

    def forward(self, states: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        scores = self.score(torch.tanh(self.project(states))).squeeze(-1)  # (batch, time)
        weights = torch.softmax(scores, dim=1)
        context = torch.bmm(weights.unsqueeze(1), states).squeeze(1)  # (batch, hidden)
        return context, weights


class AttentiveLSTM(nn.Module):
    """LSTM then attention; the summary is [attention context, last hidden state]."""

    def __init__(self, n_inputs: int, hidden: int, layers: int, dropout: float) -> None:
        super().__init__()
        self.lstm = nn.LSTM(
            n_inputs, hidden, num_layers=layers, batch_first=True,
            dropout=dropout if layers > 1 else 0.0,
        )  # fmt: skip
        self.attention = TemporalAttention(hidden)
        self.dropout = nn.Dropout(dropout)
        self.summary_size = 2 * hidden

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        states, _ = self.lstm(x)
        context, weights = self.attention(states)
        summary = torch.cat([context, states[:, -1, :]], dim=1)
        return self.dropout(summary), weights
