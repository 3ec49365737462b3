"""BoundaryMetric and the BSDS-style boundary functions."""
import math

import numpy as np
import pytest

from mmdmtl.evaluation import BoundaryMetric
from mmdmtl.evaluation.functional import (
    boundary_counts,
    boundary_scores,
    hed_thresholds,
    match_boundary_pixels,
    thin_binary,
)


def _lines(h=128, w=128, rows=(20, 60, 100)):
    gt = np.zeros((h, w), dtype=np.int64)
    for r in rows:
        gt[r, 10:w - 10] = 1
    return gt


def test_hed_thresholds():
    t = hed_thresholds(99)
    assert t.size == 99 and t[0] == pytest.approx(0.01) and t[-1] == pytest.approx(0.99)
    with pytest.raises(ValueError):
        hed_thresholds(0)


def test_thinning_bar_and_idempotence():
    bar = np.zeros((12, 30), dtype=bool)
    bar[3:8, 4:26] = True  # 5 px thick
    thin = thin_binary(bar)
    cols = thin[:, 8:22].sum(axis=0)
    assert np.all(cols == 1)  # one pixel per column in the interior
    assert thin.sum() < bar.sum() and np.all(thin <= bar)
    np.testing.assert_array_equal(thin_binary(thin), thin)
    line = _lines(20, 20, (5,)).astype(bool)
    np.testing.assert_array_equal(thin_binary(line), line)
    # stacks are thinned independently
    other = _lines(12, 30, (5,)).astype(bool)
    np.testing.assert_array_equal(thin_binary(np.stack([bar, other]))[0], thin)


def test_matching_is_one_to_one_within_radius():
    gt = np.zeros((5, 9), dtype=bool)
    gt[2, 2:7] = True
    pred = np.zeros_like(gt)
    pred[2, 2:7] = True
    pred[3, 2:7] = True  # a second, parallel line: only 5 can match
    assert match_boundary_pixels(pred, gt, 1.0) == 5
    pred2 = np.zeros_like(gt)
    pred2[4, 2:7] = True  # 2 px away
    assert match_boundary_pixels(pred2, gt, 1.5) == 0
    assert match_boundary_pixels(pred2, gt, 2.0) == 5
    # an augmenting path is needed for the maximum: a greedy match 0-0 blocks
    gt3 = np.zeros((1, 4), dtype=bool)
    gt3[0, [1, 3]] = True
    pred3 = np.zeros_like(gt3)
    pred3[0, [2]] = True
    pred3b = pred3.copy()
    pred3b[0, 0] = True
    assert match_boundary_pixels(pred3b, gt3, 1.0) == 2


def _evaluate(pairs, **kwargs):
    m = BoundaryMetric(**kwargs)
    for pred, gt in pairs:
        m.process({}, [dict(pred_edge_map=dict(data=np.asarray(pred, np.float32)[None]),
                            gt_edge_map=dict(data=np.asarray(gt)[None]), img_path='x')])
    return m.evaluate(len(pairs))


def test_perfect_prediction_scores_100():
    gt = _lines()
    res = _evaluate([(gt.astype(float), gt)], max_dist=0.011, thresholds=9)
    assert res['edge/odsF'] == pytest.approx(100.0)
    assert res['edge/oisF'] == pytest.approx(100.0)


def test_shift_within_and_beyond_tolerance():
    gt = _lines()  # diagonal 181 px: 0.011 -> 1.99 px tolerance
    within = np.roll(gt, 1, axis=0).astype(float)
    beyond = np.roll(gt, 3, axis=0).astype(float)
    assert _evaluate([(within, gt)], max_dist=0.011, thresholds=9)['edge/odsF'] == \
        pytest.approx(100.0)
    assert _evaluate([(beyond, gt)], max_dist=0.011, thresholds=9)['edge/odsF'] == 0.0
    # PASCAL tolerance 0.0075 -> 1.36 px: a 2 px shift no longer matches
    two = np.roll(gt, 2, axis=0).astype(float)
    assert _evaluate([(two, gt)], max_dist=0.0075, thresholds=9)['edge/odsF'] == 0.0
    assert _evaluate([(two, gt)], max_dist=0.012, thresholds=9)['edge/odsF'] == \
        pytest.approx(100.0)  # 2.17 px


def test_partial_prediction_and_thick_prediction_is_thinned():
    gt = _lines(rows=(60,))
    half = np.zeros_like(gt, dtype=float)
    half[60, 10:64] = 1.0  # 54 of 108 gt pixels
    res = _evaluate([(half, gt)], max_dist=0.011, thresholds=9)
    assert res['edge/odsF'] == pytest.approx(100 * 2 * 0.5 / 1.5)
    thick = np.zeros_like(gt, dtype=float)
    thick[58:63, 10:118] = 0.8
    res_thin = _evaluate([(thick, gt)], max_dist=0.011, thresholds=9)
    res_raw = _evaluate([(thick, gt)], max_dist=0.011, thresholds=9, thin=False)
    assert res_thin['edge/odsF'] > 95.0  # thinned to the centre line
    assert res_raw['edge/odsF'] == pytest.approx(100 * 2 * 0.2 / 1.2, abs=1.0)


def test_ignored_pixels_and_unlabelled_samples():
    gt = _lines(rows=(60,))
    gt[:, 100:] = 255
    pred = (gt == 1).astype(float)
    pred[20, 100:120] = 1.0  # spurious boundary inside the ignored region
    res = _evaluate([(pred, gt)], max_dist=0.011, thresholds=9)
    assert res['edge/odsF'] == pytest.approx(100.0)
    m = BoundaryMetric(thresholds=9)
    m.process({}, [dict(pred_edge_map=dict(data=np.ones((1, 8, 8), np.float32)),
                        gt_edge_map=dict(data=np.zeros((1, 8, 8), np.int64)),
                        task_mask=dict(edge=False))])
    assert m.results == [None]
    assert all(math.isnan(v) for v in m.evaluate(1).values())


def test_image_without_boundaries_counts_false_positives():
    gt = _lines(rows=(60,))
    empty = np.zeros_like(gt)
    fp = np.zeros_like(gt, dtype=float)
    fp[30, 10:64] = 1.0
    res = _evaluate([(gt.astype(float), gt), (fp, empty)], max_dist=0.011, thresholds=9)
    r, p = 1.0, 108 / (108 + 54)
    assert res['edge/odsF'] == pytest.approx(100 * 2 * r * p / (r + p))


def test_scores_from_hand_made_counts():
    # two images, two thresholds; columns cntR, sumR, cntP, sumP
    counts = np.array([[[5, 10, 5, 5], [2, 10, 2, 2]],
                       [[2, 10, 2, 10], [2, 10, 2, 2]]])
    thr = np.array([0.3, 0.6])
    s = boundary_scores(counts, thr)
    # OIS: image 1 best at t1, image 2 at t2 -> R = 7/20, P = 7/7
    assert s['oisF'] == pytest.approx(100 * 2 * 0.35 / 1.35)
    # ODS: F at t1 is 0.4, at t2 1/3; BSDS interpolates between thresholds
    d = np.linspace(0, 1, 100)
    r = 0.35 * (1 - d) + 0.2 * d
    p = (7 / 15) * (1 - d) + 1.0 * d
    assert s['odsF'] == pytest.approx(100 * np.max(2 * p * r / (p + r)))
    assert s['odsF'] > 40.0
    # AP: precision interpolated on recall in [0.2, 0.35], zero elsewhere
    assert s['AP'] == pytest.approx(100 * 0.01 * 16 * (1 + 7 / 15) / 2, abs=1.0)
    assert math.isnan(boundary_scores(np.zeros((0, 2, 4)), thr)['odsF'])


def test_counts_are_per_threshold_and_quantisation():
    gt = _lines(32, 32, (16,)).astype(bool)
    prob = np.where(gt, 0.5, 0.0)
    c = boundary_counts(prob, gt, [0.25, 0.5, 0.75], max_dist=0.011)
    np.testing.assert_array_equal(c[:, 1], gt.sum())
    np.testing.assert_array_equal(c[:, 0], [gt.sum(), gt.sum(), 0])
    # 8-bit truncation: 0.5 -> 127/255 < 0.5
    m = BoundaryMetric(thresholds=[0.25, 0.5, 0.75], max_dist=0.011)
    m.process({}, [dict(pred_edge_map=dict(data=prob[None]), gt_edge_map=dict(data=gt[None]))])
    np.testing.assert_array_equal(m.results[0][:, 0], [gt.sum(), 0, 0])


def test_bad_arguments():
    with pytest.raises(ValueError, match='diagonal'):
        BoundaryMetric(max_dist=2)
    with pytest.raises(ValueError, match='increasing'):
        BoundaryMetric(thresholds=[0.5, 0.2])
    with pytest.raises(ValueError, match='binary'):
        BoundaryMetric(task='depth')


def test_batch_size_and_process_invariance(make_sample, runner_helpers):
    run_metric, run_two_ranks = runner_helpers
    rng = np.random.default_rng(0)
    samples = []
    for i in range(5):
        gt = _lines(40, 48, tuple(rng.integers(3, 37, 2)))
        prob = np.clip(np.roll(gt, int(rng.integers(-2, 3)), 0) * 0.7 +
                       rng.random((40, 48)) * 0.4, 0, 1)
        samples.append(make_sample({'edge': prob}, {'edge': gt}, {'edge': i != 3}))

    def build():
        return BoundaryMetric(max_dist=0.011, thresholds=15)
    r1 = run_metric(build(), samples, 1)
    assert r1 == run_metric(build(), samples, 8) == run_two_ranks(build, samples)
