"""MTLDepthMetric: pooled depth errors against hand-computed values."""
import math

import numpy as np
import pytest

from mmdmtl.evaluation import MTLDepthMetric
from mmdmtl.evaluation.functional import depth_metrics_from_statistics, depth_statistics
from mmdmtl.registry import METRICS


def _samples(make_sample):
    a = make_sample({'depth': [[2., 2.], [5., 3.]]}, {'depth': [[1., 2.], [0., 4.]]},
                    {'depth': True}, name='a')
    b = make_sample({'depth': [[1., 1.], [-1., 1.]]},
                    {'depth': [[np.nan, np.inf], [2., 0.]]}, {'depth': True}, name='b')
    no_valid = make_sample({'depth': np.ones((2, 2))}, {'depth': np.zeros((2, 2))},
                           {'depth': True}, name='c')
    unlabelled = make_sample({'depth': np.full((2, 2), 100.)}, {'depth': np.ones((2, 2))},
                             {'depth': False}, name='d')
    no_gt = make_sample({'depth': np.full((2, 2), 100.)}, {}, None, name='e')
    return [a, b, no_valid, unlabelled, no_gt]


def test_pooled_values_by_hand(make_sample, runner_helpers):
    run_metric, _ = runner_helpers
    res = run_metric(MTLDepthMetric(), _samples(make_sample))
    # valid pixels (pred, gt): (2,1) (2,2) (3,4) (1e-9 clamped from -1, 2)
    eps = 1e-9
    assert res['depth/absErr'] == pytest.approx((1 + 0 + 1 + (2 - eps)) / 4)
    assert res['depth/rmse'] == pytest.approx(math.sqrt((1 + 0 + 1 + (2 - eps) ** 2) / 4))
    assert res['depth/abs_rel'] == pytest.approx((1 + 0 + 0.25 + (2 - eps) / 2) / 4)
    assert res['depth/sq_rel'] == pytest.approx((1 + 0 + 0.25 + (2 - eps) ** 2 / 2) / 4)
    logs = [math.log(2), 0.0, math.log(3 / 4), math.log(eps / 2)]
    assert res['depth/log_rmse'] == pytest.approx(math.sqrt(sum(v * v for v in logs) / 4))
    # ratios 2, 1, 4/3, 2e9
    assert res['depth/d1'] == pytest.approx(0.25)
    assert res['depth/d2'] == pytest.approx(0.5)
    assert res['depth/d3'] == pytest.approx(0.5)
    # Pooled, not the per-image mean (which would be (2/3 + 2) / 2).
    assert res['depth/absErr'] != pytest.approx((2 / 3 + 2) / 2)


def test_depth_range_and_prefix(make_sample, runner_helpers):
    run_metric, _ = runner_helpers
    res = run_metric(MTLDepthMetric(max_depth=3.0, prefix='d'), _samples(make_sample)[:1])
    # gt 4 is out of range: pixels (2,1) (2,2)
    assert res['d/absErr'] == pytest.approx(0.5)
    assert set(res) == {f'd/{k}' for k in
                        ('absErr', 'rmse', 'abs_rel', 'sq_rel', 'log_rmse', 'd1', 'd2', 'd3')}


def test_no_valid_pixel_anywhere_gives_nan(make_sample, runner_helpers):
    run_metric, _ = runner_helpers
    res = run_metric(MTLDepthMetric(), _samples(make_sample)[2:])
    assert all(math.isnan(v) for v in res.values())


def test_statistics_are_additive():
    rng = np.random.default_rng(0)
    import torch
    g = torch.from_numpy(rng.uniform(0.5, 5, (2, 8, 8)))
    p = torch.from_numpy(rng.uniform(0.5, 5, (2, 8, 8)))
    both = depth_statistics(p.reshape(1, 16, 8), g.reshape(1, 16, 8))
    parts = depth_statistics(p[0], g[0]) + depth_statistics(p[1], g[1])
    np.testing.assert_allclose(both, parts)
    assert depth_metrics_from_statistics(both)['absErr'] == pytest.approx(
        float((p - g).abs().mean()))


def test_missing_prediction_and_size_mismatch_raise(make_sample):
    m = MTLDepthMetric()
    with pytest.raises(KeyError, match='pred_depth_map'):
        m.process({}, [make_sample({}, {'depth': np.ones((2, 2))}, name='x.png')])
    with pytest.raises(ValueError, match='x.png'):
        m.process({}, [make_sample({'depth': np.ones((3, 2))}, {'depth': np.ones((2, 2))},
                                   name='x.png')])


def test_batch_size_and_process_invariance(make_sample, runner_helpers):
    run_metric, run_two_ranks = runner_helpers
    rng = np.random.default_rng(1)
    samples = []
    for i in range(11):
        gt = rng.uniform(0.5, 10, (7, 9)) * (rng.random((7, 9)) > 0.2)
        samples.append(make_sample({'depth': rng.uniform(0, 10, (7, 9))}, {'depth': gt},
                                   {'depth': bool(i % 4)}, name=str(i)))
    r1 = run_metric(MTLDepthMetric(), samples, batch_size=1)
    r8 = run_metric(MTLDepthMetric(), samples, batch_size=8)
    r2p = run_two_ranks(MTLDepthMetric, samples)
    assert r1 == r8 == r2p


def test_registered():
    assert METRICS.get('MTLDepthMetric') is MTLDepthMetric
