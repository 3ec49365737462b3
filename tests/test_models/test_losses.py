"""Per-sample dense losses and the partial-label weights."""
import math

import pytest
import torch

from mmdmtl.models.losses import (
    BalancedBCELoss,
    DepthL1Loss,
    MTLCrossEntropyLoss,
    NormalL1Loss,
    partial_label_sample_weights,
)
from mmdmtl.registry import MODELS


def test_cross_entropy_per_sample_with_ignore():
    pred = torch.zeros(2, 4, 2, 2)
    target = torch.tensor([[[[0, 1], [255, 255]]], [[[255, 255], [255, 255]]]])
    loss = MTLCrossEntropyLoss(loss_weight=2.0)(pred, target)
    assert loss.shape == (2, )
    assert loss[0].item() == pytest.approx(2 * math.log(4))
    assert loss[1].item() == 0.0  # no valid pixel: 0, not NaN
    mean = MTLCrossEntropyLoss(reduction='mean')(pred, target)
    assert mean.item() == pytest.approx(math.log(4) / 2)


def test_depth_l1_valid_pixels_only():
    pred = torch.full((2, 1, 2, 2), 2.0, requires_grad=True)
    target = torch.tensor([[[[1.0, 0.0], [3.0, 255.0]]], [[[0.0, 0.0], [0.0, 0.0]]]])
    loss = DepthL1Loss()(pred, target)
    torch.testing.assert_close(loss, torch.tensor([1.0, 0.0]))
    loss.sum().backward()
    assert torch.isfinite(pred.grad).all()
    assert pred.grad[0, 0, 0, 1] == 0 and pred.grad[1].abs().sum() == 0


def test_normal_l1_normalises_prediction():
    target = torch.zeros(1, 3, 1, 2)
    target[0, 2, 0, 0] = 1.0  # second pixel invalid (zero vector)
    pred = torch.zeros(1, 3, 1, 2)
    pred[0, 2] = 5.0  # same direction, other length
    assert NormalL1Loss()(pred, target).item() == pytest.approx(0.0, abs=1e-6)
    pred[0, 2, 0, 0] = -5.0
    assert NormalL1Loss()(pred, target).item() == pytest.approx(2.0)
    assert NormalL1Loss(mode='cosine')(pred, target).item() == pytest.approx(2.0)
    with pytest.raises(ValueError, match='mode'):
        NormalL1Loss(mode='l2')


def test_balanced_bce_weights():
    logits = torch.zeros(1, 1, 1, 4)
    target = torch.tensor([[[[1, 0, 0, 255]]]])
    fixed = BalancedBCELoss(pos_weight=0.95)(logits, target)
    expected = (0.95 + 0.05 * 2) * math.log(2) / 3
    assert fixed.item() == pytest.approx(expected, rel=1e-5)
    balanced = BalancedBCELoss(pos_weight=None)(logits, target)
    expected = (2 / 3 + 1 / 3 * 2) * math.log(2) / 3
    assert balanced.item() == pytest.approx(expected, rel=1e-5)
    empty = BalancedBCELoss()(logits, torch.full_like(target, 255))
    assert empty.item() == 0.0


def test_losses_are_registered():
    for t in ('MTLCrossEntropyLoss', 'DepthL1Loss', 'NormalL1Loss', 'BalancedBCELoss'):
        assert MODELS.build(dict(type=t, loss_weight=3.0)).loss_weight == 3.0


def test_partial_label_sample_weights():
    mask = torch.tensor([[1, 0, 0], [1, 1, 0], [0, 0, 0], [1, 1, 1]], dtype=torch.bool)
    w = partial_label_sample_weights(mask)
    torch.testing.assert_close(w, torch.tensor([3.0, 1.5, 0.0, 1.0]) / 4)
    w = partial_label_sample_weights(mask, scale_by_labels=False)
    torch.testing.assert_close(w, torch.tensor([1.0, 1.0, 0.0, 1.0]) / 4)
