"""Non-finite predictions never improve a score: a NaN / inf prediction at an
evaluated pixel makes every metric of its task NaN (mean, median, RMSE,
within-t°, δ, maxF, odsF...), a warning names the sample and the count, and
the same prediction at an ignored / invalid pixel changes nothing. Expected
values are computed by hand."""
import math

import numpy as np
import pytest
import torch

from mmdmtl.evaluation import (
    BoundaryMetric,
    MTLDepthMetric,
    MultiTaskMetric,
    SaliencyMetric,
    SurfaceNormalMetric,
)
from mmdmtl.evaluation.functional import (
    depth_metrics_from_statistics,
    depth_statistics,
    normal_metrics_from_statistics,
    normal_statistics,
)
from mmdmtl.evaluation.metrics import base_task_metric

NAN = float('nan')
NORMAL_KEYS = ('normal/mean', 'normal/median', 'normal/rmse', 'normal/a11.25',
               'normal/a22.5', 'normal/a30')
DEPTH_KEYS = ('depth/absErr', 'depth/rmse', 'depth/abs_rel', 'depth/sq_rel',
              'depth/log_rmse', 'depth/d1', 'depth/d2', 'depth/d3')


@pytest.fixture
def warnings(monkeypatch):
    """Messages logged at WARNING level by the task metrics."""
    logged = []

    def record(msg, logger=None, level=20):
        if level >= 30:
            logged.append(msg)
    monkeypatch.setattr(base_task_metric, 'print_log', record)
    return logged


def _normals(vectors):
    """(3, 1, N) map from N 3-vectors."""
    return np.asarray(vectors, dtype=np.float32).T[:, None, :]


# 0°, 90°, 90° against the up vector; the 4th pixel varies per test.
_GT = [[0, 0, 1]] * 4
_PRED = [[0, 0, 1], [1, 0, 0], [0, 1, 0]]
_THREE = {'normal/mean': 60.0, 'normal/median': 90.005, 'normal/rmse': math.sqrt(5400.0),
          'normal/a11.25': 100 / 3, 'normal/a22.5': 100 / 3, 'normal/a30': 100 / 3}


def _normal_result(make_sample, pred, gt, **kw):
    m = SurfaceNormalMetric(**kw)
    m.process({}, [make_sample({'normal': _normals(pred)}, {'normal': _normals(gt)},
                               name='room_7.png')])
    return m.evaluate(1)


def test_normal_reference_without_nan(make_sample):
    res = _normal_result(make_sample, _PRED, _GT[:3])
    assert res == pytest.approx(_THREE)


@pytest.mark.parametrize('bad', [[NAN, 0, 1], [0, NAN, NAN], [np.inf, 0, 0]])
@pytest.mark.parametrize('exact_median', [False, True])
def test_normal_nan_prediction_makes_every_statistic_nan(make_sample, warnings, bad,
                                                         exact_median):
    # Before: mean and rmse were NaN but the histogram median counted the NaN
    # pixel as a perfect 0° one (45.005 here) and a11.25 was 25%.
    res = _normal_result(make_sample, _PRED + [bad], _GT, exact_median=exact_median)
    assert set(res) == set(NORMAL_KEYS)
    assert all(math.isnan(res[k]) for k in NORMAL_KEYS), res
    assert any('img_path=room_7.png has 1 evaluated pixels with a non-finite' in w
               for w in warnings), warnings
    assert any('1 evaluated pixels in 1 of 1 samples have a non-finite' in w
               for w in warnings), warnings


def test_normal_nan_at_invalid_pixel_is_ignored(make_sample, warnings):
    gt = _GT[:3] + [[0, 0, 0]]  # zero ground truth: not evaluated
    res = _normal_result(make_sample, _PRED + [[NAN, NAN, NAN]], gt)
    assert res == pytest.approx(_THREE)
    assert not warnings


def test_normal_functional_median_with_nan():
    stats = normal_statistics(torch.as_tensor(_normals(_PRED + [[NAN, 0, 1]])),
                              torch.as_tensor(_normals(_GT)))
    assert stats['n'] == 4 and stats['nonfinite'] == 1
    assert stats['counts'].sum() == 3  # the NaN is not in the histogram
    out = normal_metrics_from_statistics([stats])
    assert all(math.isnan(v) for v in out.values()), out
    # pooled with a clean image, the set is still NaN
    clean = normal_statistics(torch.as_tensor(_normals(_PRED)),
                              torch.as_tensor(_normals(_GT[:3])))
    assert normal_metrics_from_statistics([clean]) == pytest.approx(
        {k.split('/')[1]: v for k, v in _THREE.items()})
    assert all(math.isnan(v) for v in normal_metrics_from_statistics([clean, stats]).values())


# depth: gt 1, 2, 4 (valid) and 0 (invalid)
_DEPTH_GT = [[1.0, 2.0, 4.0, 0.0]]


def _depth_result(make_sample, pred):
    m = MTLDepthMetric()
    m.process({}, [make_sample({'depth': np.array([pred], np.float32)},
                               {'depth': np.array(_DEPTH_GT, np.float32)}, name='d.png')])
    return m.evaluate(1)


def test_depth_nan_at_invalid_pixel_is_ignored(make_sample, warnings):
    res = _depth_result(make_sample, [1.5, 2.0, 3.0, NAN])
    # |e| = 0.5, 0, 1; ratios 1.5, 1, 4/3
    assert res['depth/absErr'] == pytest.approx(0.5)
    assert res['depth/rmse'] == pytest.approx(math.sqrt(1.25 / 3))
    assert res['depth/d1'] == pytest.approx(1 / 3)
    assert res['depth/d2'] == pytest.approx(1.0)
    assert not warnings


@pytest.mark.parametrize('bad', [NAN, np.inf, -np.inf])
def test_depth_nonfinite_prediction_makes_every_metric_nan(make_sample, warnings, bad):
    # Before: NaN failed every ratio test (d1 = 1/3 stayed finite), -inf was
    # clamped to 1e-9 and scored as a finite number.
    res = _depth_result(make_sample, [1.5, 2.0, bad, 1.0])
    assert set(res) == set(DEPTH_KEYS)
    assert all(math.isnan(res[k]) for k in DEPTH_KEYS), res
    assert any('img_path=d.png has 1 evaluated pixels' in w for w in warnings), warnings


def test_depth_functional_counts_nonfinite():
    s = depth_statistics(torch.tensor([1.5, NAN, 3.0]), torch.tensor([1.0, 2.0, 4.0]))
    assert s[-1] == 1
    assert all(math.isnan(v) for v in depth_metrics_from_statistics(s).values())


# saliency: gt 1, 0, 0, 1
def _sal_result(make_sample, prob, gt=(1, 0, 0, 1)):
    m = SaliencyMetric()
    m.process({}, [make_sample({'sal': np.array([prob], np.float32)},
                               {'sal': np.array([gt], np.int64)}, name='s.png')])
    return m.evaluate(1)['sal/maxF']


def test_saliency_nan_prediction_makes_maxf_nan(make_sample, warnings):
    # A finite false alarm at the negative pixel: best F at t <= 0.8 with
    # P = 2/3, R = 1: F = 1.3 * 2/3 / (0.3 * 2/3 + 1) = 72.22%.
    assert _sal_result(make_sample, [0.9, 0.95, 0.1, 0.8]) == pytest.approx(1.3 / 1.8 * 100)
    # Before: the NaN was below every threshold, a free true negative
    # (maxF 100, better than any finite prediction at that pixel).
    assert math.isnan(_sal_result(make_sample, [0.9, NAN, 0.1, 0.8]))
    assert any('img_path=s.png has 1 evaluated pixels' in w for w in warnings)


def test_saliency_nan_at_ignored_pixel_is_ignored(make_sample, warnings):
    assert _sal_result(make_sample, [0.9, NAN, 0.1, 0.8], gt=(1, 255, 0, 1)) == 100.0
    assert not warnings


def _edge_result(make_sample, nan_at, gt_value=0):
    gt = np.zeros((8, 8), np.int64)
    gt[:, 3] = 1
    prob = gt.astype(np.float32)
    prob[nan_at] = NAN
    gt[nan_at] = gt_value
    m = BoundaryMetric(thresholds=9, max_dist=0.011)
    m.process({}, [make_sample({'edge': prob}, {'edge': gt}, name='e.png')])
    return m.evaluate(1)


def test_boundary_nan_prediction_makes_every_score_nan(make_sample, warnings):
    # Before: the NaN pixel was never a boundary pixel: a perfect 100.
    res = _edge_result(make_sample, (0, 0))
    assert set(res) == {'edge/odsF', 'edge/oisF', 'edge/AP'}
    assert all(math.isnan(v) for v in res.values()), res
    assert any('img_path=e.png has 1 evaluated pixels' in w for w in warnings)


def test_boundary_nan_at_ignored_pixel_is_ignored(make_sample, warnings):
    res = _edge_result(make_sample, (0, 0), gt_value=255)
    assert res['edge/odsF'] == pytest.approx(100.0)
    assert res['edge/oisF'] == pytest.approx(100.0)
    assert not warnings


def test_nan_task_makes_delta_m_nan_but_not_other_tasks(make_sample):
    m = MultiTaskMetric([dict(type='MTLDepthMetric'), dict(type='SurfaceNormalMetric')],
                        baselines={'depth/absErr': 0.5, 'normal/mean': 60.0})
    m.process({}, [make_sample(
        {'depth': np.array([[1.5, 2.0, 3.0, 1.0]], np.float32),
         'normal': _normals(_PRED + [[NAN, 0, 1]])},
        {'depth': np.array(_DEPTH_GT, np.float32), 'normal': _normals(_GT)})])
    res = m.evaluate(1)
    assert res['depth/absErr'] == pytest.approx(0.5)
    assert math.isnan(res['normal/median'])
    assert math.isnan(res['mtl/delta_m'])


def test_nan_delta_m_is_never_the_best_checkpoint():
    """mmengine's save_best (rule 'greater', as in default_runtime) never
    prefers a NaN Δm, not even to the initial -inf."""
    from mmengine.hooks import CheckpointHook
    assert not CheckpointHook.rule_map['greater'](math.nan, -math.inf)
    assert not CheckpointHook.rule_map['greater'](math.nan, -5.0)


def test_every_evaluation_warns_again(make_sample, warnings):
    m = SurfaceNormalMetric()
    for _ in range(2):
        m.process({}, [make_sample({'normal': _normals(_PRED + [[NAN, 0, 1]])},
                                   {'normal': _normals(_GT)}, name='room_7.png')])
        m.evaluate(1)
    assert sum('img_path=room_7.png' in w for w in warnings) == 2
