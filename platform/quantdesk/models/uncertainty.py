"""Monte Carlo dropout: N stochastic passes give a predictive mean, spread and entropy.

Only the dropout layers are switched to training mode; everything else stays in evaluation
mode, and the model's own mode is restored afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from quantdesk.domain.errors import InvalidInputError
from quantdesk.models.hybrid import HybridNet

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True, eq=False)
class McDropoutPrediction:
    """Per sample: mean class probabilities and their std, entropy, forecast mean and std."""

    probabilities: FloatArray  # (samples, 3)
    probability_std: FloatArray  # (samples, 3)
    predictive_entropy: FloatArray  # (samples,) entropy of the mean distribution, in nats
    forecast_mean: FloatArray  # (samples,)
    forecast_std: FloatArray  # (samples,)
    passes: int


def predictive_entropy(probabilities: FloatArray) -> FloatArray:
    """Entropy (nats) of each row of class probabilities."""
    p = np.clip(probabilities, 1e-12, 1.0)
    return np.asarray(-(p * np.log(p)).sum(axis=-1), dtype=np.float64)


def mc_dropout_predict(
    model: HybridNet,
    x: npt.NDArray[np.float32],
    passes: int = 30,
    *,
    seed: int = 0,
    temperature: float = 1.0,
    batch_size: int = 1024,
) -> McDropoutPrediction:
    """Run ``passes`` dropout-on forward passes over scaled windows ``x``."""
    if passes < 2:
        raise InvalidInputError(f"MC dropout needs at least 2 passes, got {passes}")
    was_training = model.training
    model.eval()
    for module in model.modules():
        if isinstance(module, nn.Dropout):
            module.train()
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    probs = np.empty((passes, len(x), 3))
    forecasts = np.empty((passes, len(x)))
    try:
        with torch.no_grad():
            tensor = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
            if passes * len(x) <= batch_size:
                # Few windows (one symbol live): all passes in one batch; every row draws
                # its own dropout mask, so this is the same estimator, one call instead of N.
                out = model(tensor.repeat(passes, 1, 1))
                probs[:] = (
                    torch.softmax(out.logits / temperature, 1).numpy().reshape(passes, len(x), 3)
                )
                forecasts[:] = out.forecast.numpy().reshape(passes, len(x))
            else:
                for k in range(passes):
                    for start in range(0, len(x), batch_size):
                        out = model(tensor[start : start + batch_size])
                        stop = start + len(out.forecast)
                        probs[k, start:stop] = torch.softmax(out.logits / temperature, 1).numpy()
                        forecasts[k, start:stop] = out.forecast.numpy()
    finally:
        torch.random.set_rng_state(generator_state)
        model.train(was_training)
    mean = probs.mean(axis=0)
    return McDropoutPrediction(
        probabilities=mean,
        probability_std=probs.std(axis=0),
        predictive_entropy=predictive_entropy(mean),
        forecast_mean=forecasts.mean(axis=0),
        forecast_std=forecasts.std(axis=0),
        passes=passes,
    )
