"""SurfaceNormalMetric: angular errors, histogram median bound, invariance."""
import math

import numpy as np
import pytest
import torch

from mmdmtl.evaluation import SurfaceNormalMetric
from mmdmtl.evaluation.functional import normal_angular_error


def _chw(vectors, h, w):
    return np.asarray(vectors, dtype=np.float32).T.reshape(3, h, w)


def test_hand_computed_angles(make_sample, runner_helpers):
    run_metric, _ = runner_helpers
    gt = _chw([[0, 0, 1], [1, 0, 0], [0, 0, 0], [0, 1, 0]], 2, 2)
    # 0 deg (unnormalised pred), 90 deg, (invalid gt), 45 deg
    pred = _chw([[0, 0, 2], [0, 1, 0], [1, 1, 1], [0, 1, 1]], 2, 2)
    no_valid = make_sample({'normal': np.ones((3, 2, 2))}, {'normal': np.zeros((3, 2, 2))},
                           {'normal': True})
    unlabelled = make_sample({'normal': -gt}, {'normal': gt}, {'normal': False})
    res = run_metric(SurfaceNormalMetric(),
                     [make_sample({'normal': pred}, {'normal': gt}), no_valid, unlabelled])
    assert res['normal/mean'] == pytest.approx(45.0)
    assert res['normal/median'] == pytest.approx(45.0, abs=0.005 + 1e-9)
    assert res['normal/rmse'] == pytest.approx(math.sqrt((0 + 90 ** 2 + 45 ** 2) / 3))
    for k in ('a11.25', 'a22.5', 'a30'):
        assert res[f'normal/{k}'] == pytest.approx(100 / 3)


def test_angle_formula_matches_acos_and_is_stable():
    rng = np.random.default_rng(0)
    g = torch.from_numpy(rng.normal(size=(3, 5, 6)))
    p = torch.from_numpy(rng.normal(size=(3, 5, 6)))
    ang, valid = normal_angular_error(p, g)
    assert valid.all()
    pn, gn = p / p.norm(dim=0), g / g.norm(dim=0)
    ref = torch.rad2deg(torch.acos((pn * gn).sum(0).clamp(-1, 1))).reshape(-1)
    torch.testing.assert_close(ang, ref.double(), atol=1e-6, rtol=0)
    # Tiny angles: acos loses them, atan2 form keeps them.
    tiny, _ = normal_angular_error(torch.tensor([[[1.0]], [[1e-6]], [[0.0]]]),
                                   torch.tensor([[[1.0]], [[0.0]], [[0.0]]]))
    assert tiny.item() == pytest.approx(math.degrees(1e-6), rel=1e-4)


def _angle_samples(make_sample, thetas_per_image):
    samples = []
    for th in thetas_per_image:
        th = np.deg2rad(np.asarray(th))
        pred = np.stack([np.sin(th), np.zeros_like(th), np.cos(th)])[:, None, :]
        gt = np.stack([np.zeros_like(th), np.zeros_like(th), np.ones_like(th)])[:, None, :]
        samples.append(make_sample({'normal': pred}, {'normal': gt}))
    return samples


def test_median_known_answer(make_sample, runner_helpers):
    run_metric, _ = runner_helpers
    # 5 pixels over 2 images: median of {1, 7, 13.3, 40, 89} is 13.3
    samples = _angle_samples(make_sample, [[40.0, 1.0, 89.0], [13.3, 7.0]])
    exact = run_metric(SurfaceNormalMetric(exact_median=True), samples)
    assert exact['normal/median'] == pytest.approx(13.3, abs=1e-5)  # float32 inputs
    hist = run_metric(SurfaceNormalMetric(), samples)
    assert abs(hist['normal/median'] - 13.3) <= 0.005 + 1e-5
    # Even count: mean of the two middle values (7 and 13.3).
    samples = _angle_samples(make_sample, [[40.0, 1.0], [13.3, 7.0]])
    assert run_metric(SurfaceNormalMetric(exact_median=True), samples)['normal/median'] == \
        pytest.approx(10.15, abs=1e-5)


@pytest.mark.parametrize('bin_width', [0.01, 0.5, 3.0])
def test_histogram_median_error_bound(make_sample, runner_helpers, bin_width):
    run_metric, _ = runner_helpers
    rng = np.random.default_rng(2)
    thetas = [rng.uniform(0, 120, rng.integers(50, 300)) for _ in range(6)]
    samples = _angle_samples(make_sample, thetas)
    true_median = float(np.median(np.concatenate(thetas)))
    res = run_metric(SurfaceNormalMetric(bin_width=bin_width), samples)
    assert abs(res['normal/median'] - true_median) <= bin_width / 2 + 1e-5


def test_invalid_bin_width():
    with pytest.raises(ValueError, match='bin_width'):
        SurfaceNormalMetric(bin_width=0)


def test_batch_size_and_process_invariance(make_sample, runner_helpers):
    run_metric, run_two_ranks = runner_helpers
    rng = np.random.default_rng(3)
    samples = []
    for i in range(9):
        gt = rng.normal(size=(3, 6, 5)) * (rng.random((1, 6, 5)) > 0.3)
        samples.append(make_sample({'normal': rng.normal(size=(3, 6, 5))}, {'normal': gt},
                                   {'normal': i != 4}))
    r1 = run_metric(SurfaceNormalMetric(), samples, batch_size=1)
    r8 = run_metric(SurfaceNormalMetric(), samples, batch_size=8)
    r2p = run_two_ranks(SurfaceNormalMetric, samples)
    assert r1 == r8 == r2p
