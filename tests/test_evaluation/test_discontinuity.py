"""Errors at and off ground-truth discontinuities: the mask against a
brute-force reference, and the split keys of the depth and normal metrics
against hand-computed values."""
import math

import numpy as np
import pytest
import torch

from mmdmtl.evaluation import MTLDepthMetric, SurfaceNormalMetric
from mmdmtl.evaluation.functional import discontinuity_mask


def _reference_mask(gt: np.ndarray, kind: str, threshold: float, width: int) -> np.ndarray:
    """Pixel-by-pixel loops: mark both pixels of every jumping 4-neighbour
    pair of valid pixels, dilate by a (2 width + 1) square, keep valid ones."""
    if kind == 'depth':
        g = gt.reshape(gt.shape[-2:]).astype(np.float64)
        valid = np.isfinite(g) & (g > 0)
    else:
        norm = np.linalg.norm(gt, axis=0)
        valid = np.isfinite(norm) & (norm > 0)
        g = gt / np.where(valid, norm, 1.0)
    h, w = valid.shape
    marks = np.zeros((h, w), bool)
    for y in range(h):
        for x in range(w):
            for dy, dx in ((0, 1), (1, 0)):
                y2, x2 = y + dy, x + dx
                if y2 >= h or x2 >= w or not (valid[y, x] and valid[y2, x2]):
                    continue
                if kind == 'depth':
                    a, b = g[y, x], g[y2, x2]
                    jump = abs(a - b) > threshold * min(a, b)
                else:
                    cos = float(np.clip(np.dot(g[:, y, x], g[:, y2, x2]), -1, 1))
                    jump = math.degrees(math.acos(cos)) > threshold
                if jump:
                    marks[y, x] = marks[y2, x2] = True
    out = np.zeros_like(marks)
    for y, x in zip(*np.nonzero(marks)):
        out[max(0, y - width):y + width + 1, max(0, x - width):x + width + 1] = True
    return out & valid


def test_depth_step_by_hand():
    gt = torch.full((1, 4, 8), 2.0)
    gt[..., 4:] = 3.0  # a 50 % jump between columns 3 and 4
    gt[0, 0, 0] = 0.0  # invalid: never marked, makes no jump with its neighbours
    cols = discontinuity_mask(gt, 'depth', 0.05, width=0).any(dim=0)
    assert cols.tolist() == [False, False, False, True, True, False, False, False]
    cols = discontinuity_mask(gt, 'depth', 0.05, width=1).any(dim=0)
    assert cols.tolist() == [False, False, True, True, True, True, False, False]
    assert not discontinuity_mask(gt, 'depth', 0.6, width=1).any()  # 0.5 < 0.6
    assert not discontinuity_mask(gt, 'depth', 0.05, width=3)[0, 0]  # invalid pixel


def test_normal_crease_by_hand_and_length_invariance():
    gt = torch.zeros(3, 5, 6)
    gt[2] = 1.0
    gt[:, :, 3:] = torch.tensor([1.0, 0.0, 1.0])[:, None, None]  # 45 degrees, not unit
    mask = discontinuity_mask(gt, 'normal', 10.0, width=0)
    assert mask.any(dim=0).tolist() == [False, False, True, True, False, False]
    assert torch.equal(mask, discontinuity_mask(5.0 * gt, 'normal', 10.0, width=0))
    assert not discontinuity_mask(gt, 'normal', 50.0, width=2).any()


@pytest.mark.parametrize('kind', ['depth', 'normal'])
@pytest.mark.parametrize('width', [0, 1, 2])
def test_mask_equals_the_brute_force_reference(kind, width):
    rng = np.random.default_rng(width + (kind == 'normal') * 10)
    # piecewise constant blocks plus small noise, and some invalid pixels
    if kind == 'depth':
        blocks = rng.uniform(1.0, 4.0, size=(1, 3, 4))
        gt = np.kron(blocks, np.ones((1, 4, 3))) * rng.uniform(0.99, 1.01, size=(1, 12, 12))
        gt[0, rng.random((12, 12)) < 0.1] = 0.0
        threshold = 0.05
    else:
        blocks = rng.normal(size=(3, 3, 4))
        gt = np.kron(blocks, np.ones((1, 4, 3))) + rng.normal(scale=0.02, size=(3, 12, 12))
        gt[:, rng.random((12, 12)) < 0.1] = 0.0
        threshold = 10.0
    mask = discontinuity_mask(torch.from_numpy(gt), kind, threshold, width)
    ref = _reference_mask(gt, kind, threshold, width)
    assert ref.any() and not ref.all()
    np.testing.assert_array_equal(mask.numpy(), ref)


def test_mask_errors():
    with pytest.raises(ValueError, match='kind must be one of'):
        discontinuity_mask(torch.ones(1, 2, 2), 'semseg', 1.0)
    with pytest.raises(ValueError, match='width must be an integer >= 0'):
        discontinuity_mask(torch.ones(1, 2, 2), 'depth', 0.05, width=-1)
    with pytest.raises(ValueError, match='threshold must be > 0'):
        discontinuity_mask(torch.ones(1, 2, 2), 'depth', 0.0)
    with pytest.raises(ValueError, match=r'depth must be \(1, H, W\)'):
        discontinuity_mask(torch.ones(3, 2, 2), 'depth', 0.05)
    with pytest.raises(ValueError, match=r'normals must be \(3, H, W\)'):
        discontinuity_mask(torch.ones(1, 2, 2), 'normal', 10.0)


def _step_depth_sample(make_sample):
    """4x6 ground truth with a jump between columns 2 and 3; the prediction
    is off by 1 m in columns 2-3 (at the jump) and by 0.5 m in column 0."""
    gt = np.full((4, 6), 2.0)
    gt[:, 3:] = 4.0
    pred = gt.copy()
    pred[:, 2:4] += 1.0
    pred[:, 0] += 0.5
    return make_sample({'depth': pred}, {'depth': gt}, {'depth': True}, name='step')


def test_depth_metric_split_by_hand(make_sample, runner_helpers):
    run_metric, _ = runner_helpers
    sample = _step_depth_sample(make_sample)
    plain = run_metric(MTLDepthMetric(), [sample])
    res = run_metric(MTLDepthMetric(disc_width=0), [sample])
    # width 0: columns 2 and 3 are at the discontinuity (8 of 24 pixels)
    assert res['depth/absErr_at_disc'] == pytest.approx(1.0)
    assert res['depth/absErr_off_disc'] == pytest.approx(4 * 0.5 / 16)
    assert res['depth/disc_pct'] == pytest.approx(100 * 8 / 24)
    assert {k: v for k, v in res.items() if k in plain} == pytest.approx(plain)
    # width 1 takes columns 1-4: the 0.5 m errors of column 0 stay off it
    res = run_metric(MTLDepthMetric(disc_width=1), [sample])
    assert res['depth/absErr_at_disc'] == pytest.approx(8 * 1.0 / 16)
    assert res['depth/absErr_off_disc'] == pytest.approx(4 * 0.5 / 8)
    assert MTLDepthMetric(disc_width=1).metric_keys()[-3:] == [
        'depth/absErr_at_disc', 'depth/absErr_off_disc', 'depth/disc_pct']
    assert 'depth/disc_pct' not in MTLDepthMetric().metric_keys()


def test_normal_metric_split_by_hand(make_sample, runner_helpers):
    run_metric, _ = runner_helpers
    gt = np.zeros((3, 4, 6))
    gt[2] = 1.0
    gt[:, :, 3:] = np.array([0.0, 1.0, 0.0])[:, None, None]  # 90 degree crease
    gt[:, 0, 0] = 0.0  # an invalid pixel
    pred = gt.copy()
    pred[:, :, 2] = np.array([0.0, 1.0, 1.0])[:, None]  # 45 degrees off at the crease
    pred[:, 3, 5] = np.array([1.0, 1.0, 0.0])  # 45 degrees off, away from it
    sample = make_sample({'normal': pred}, {'normal': gt}, {'normal': True}, name='crease')
    plain = run_metric(SurfaceNormalMetric(), [sample])
    res = run_metric(SurfaceNormalMetric(disc_width=0), [sample])
    assert res['normal/mean_at_disc'] == pytest.approx(45.0 * 4 / 8)
    assert res['normal/mean_off_disc'] == pytest.approx(45.0 / 15)
    assert res['normal/disc_pct'] == pytest.approx(100 * 8 / 23)
    assert res['normal/mean'] == pytest.approx(plain['normal/mean'])
    assert res['normal/mean'] == pytest.approx(45.0 * 5 / 23)


def test_split_is_nan_without_pixels_or_with_nonfinite_predictions(make_sample, runner_helpers):
    run_metric, _ = runner_helpers
    flat = make_sample({'depth': np.full((3, 3), 2.5)}, {'depth': np.full((3, 3), 2.0)},
                       {'depth': True}, name='flat')
    res = run_metric(MTLDepthMetric(disc_width=1), [flat])
    assert math.isnan(res['depth/absErr_at_disc']) and res['depth/disc_pct'] == 0.0
    assert res['depth/absErr_off_disc'] == pytest.approx(0.5)
    pred = np.full((3, 3), 2.5)
    pred[1, 1] = np.nan
    bad = make_sample({'depth': pred}, {'depth': np.full((3, 3), 2.0)}, {'depth': True},
                      name='bad')
    res = run_metric(MTLDepthMetric(disc_width=1), [bad])
    assert all(math.isnan(v) for v in res.values())


@pytest.mark.parametrize('metric', [MTLDepthMetric, SurfaceNormalMetric])
def test_metric_argument_errors(metric):
    with pytest.raises(ValueError, match='disc_width must be an integer >= 0'):
        metric(disc_width=-1)
    with pytest.raises(ValueError, match='disc_threshold must be > 0'):
        metric(disc_width=1, disc_threshold=0)
