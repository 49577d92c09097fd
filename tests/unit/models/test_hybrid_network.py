"""The hybrid network: shapes, causal convolutions, attention weights, joint loss, MC dropout."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from quantdesk.domain.errors import InvalidInputError
from quantdesk.models.architecture import HybridArchitecture
from quantdesk.models.cnn import TemporalCNN
from quantdesk.models.hybrid import HybridNet, joint_loss
from quantdesk.models.uncertainty import mc_dropout_predict

torch.set_num_threads(1)
ARCH = HybridArchitecture(n_features=4, conv_channels=(8, 8), kernel_sizes=(3, 3),
                          dilations=(1, 2), lstm_hidden=8, dropout=0.2)  # fmt: skip


def test_hybrid_forward_gives_logits_forecast_and_normalised_attention() -> None:
    # Arrange
    torch.manual_seed(0)
    net = HybridNet(ARCH).eval()

    # Act
    out = net(torch.randn(5, 12, 4))

    # Assert
    assert out.logits.shape == (5, 3)
    assert out.forecast.shape == (5,)
    assert out.attention.shape == (5, 12)
    torch.testing.assert_close(out.attention.sum(dim=1), torch.ones(5))


def test_temporal_cnn_output_at_a_step_ignores_later_inputs() -> None:
    # Arrange
    torch.manual_seed(0)
    cnn = TemporalCNN(4, (6, 6), (3, 3), (1, 4), dropout=0.0).eval()
    x = torch.randn(1, 20, 4)
    changed = x.clone()
    changed[:, 15:, :] += 10.0

    # Act
    a, b = cnn(x), cnn(changed)

    # Assert
    torch.testing.assert_close(a[:, :15], b[:, :15])
    assert not torch.allclose(a[:, 15:], b[:, 15:])


def test_joint_loss_weights_switch_heads_on_and_off() -> None:
    # Arrange
    torch.manual_seed(0)
    out = HybridNet(ARCH)(torch.randn(6, 10, 4))
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    target = torch.randn(6)

    # Act
    ce_only = joint_loss(out, y, target, 1.0, 0.0)
    mse_only = joint_loss(out, y, target, 0.0, 1.0)
    both = joint_loss(out, y, target, 1.0, 2.0)

    # Assert
    torch.testing.assert_close(both, ce_only + 2.0 * mse_only)


def test_architecture_mismatched_conv_lists_raise() -> None:
    with pytest.raises(InvalidInputError, match="equal lengths"):
        HybridArchitecture(n_features=3, conv_channels=(8,), kernel_sizes=(3, 3), dilations=(1,))


def test_mc_dropout_spreads_predictions_and_restores_eval_mode() -> None:
    # Arrange
    torch.manual_seed(0)
    net = HybridNet(ARCH).eval()
    x = np.random.default_rng(0).standard_normal((7, 12, 4)).astype(np.float32)

    # Act
    first = mc_dropout_predict(net, x, passes=10, seed=3)
    again = mc_dropout_predict(net, x, passes=10, seed=3)

    # Assert
    assert first.probabilities.shape == (7, 3)
    np.testing.assert_allclose(first.probabilities.sum(axis=1), 1.0)
    assert (first.forecast_std > 0).all()
    assert (first.predictive_entropy > 0).all() and (first.predictive_entropy <= np.log(3)).all()
    np.testing.assert_array_equal(first.forecast_mean, again.forecast_mean)
    assert not net.training


def test_mc_dropout_single_pass_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="at least 2"):
        mc_dropout_predict(HybridNet(ARCH), np.zeros((1, 5, 4), np.float32), passes=1)


def test_mc_dropout_batched_and_looped_passes_estimate_the_same_mean() -> None:
    # Arrange
    torch.manual_seed(1)
    net = HybridNet(ARCH).eval()
    x = np.random.default_rng(1).standard_normal((2, 12, 4)).astype(np.float32)

    # Act: 400 passes in one batch, then one pass per call.
    batched = mc_dropout_predict(net, x, passes=400, seed=5, batch_size=4096)
    looped = mc_dropout_predict(net, x, passes=400, seed=6, batch_size=1)

    # Assert
    np.testing.assert_allclose(batched.probabilities, looped.probabilities, atol=0.02)
    np.testing.assert_allclose(batched.forecast_std, looped.forecast_std, rtol=0.25)
