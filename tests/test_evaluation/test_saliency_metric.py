"""SaliencyMetric: pooled maxF with beta^2 = 0.3."""
import math

import numpy as np
import pytest

from mmdmtl.evaluation import SaliencyMetric


def test_hand_computed_maxf(make_sample, runner_helpers):
    run_metric, _ = runner_helpers
    # valid pixels: gt 1 1 0 0 (last pixel ignored)
    s1 = make_sample({'sal': [[0.9, 0.42, 0.62, 0.1, 0.99]]}, {'sal': [[1, 1, 0, 0, 255]]})
    no_valid = make_sample({'sal': [[0.9, 0.9]]}, {'sal': [[255, 255]]})
    unlabelled = make_sample({'sal': [[0.9, 0.9]]}, {'sal': [[0, 0]]}, {'sal': False})
    res = run_metric(SaliencyMetric(), [s1, no_valid, unlabelled])
    # best: 0.62 < t <= 0.9 -> TP 1, predicted 1, actual 2: P=1, R=.5
    f = 1.3 * 1 * 0.5 / (0.3 * 1 + 0.5)
    assert res['sal/maxF'] == pytest.approx(100 * f)


def test_pooled_over_images_not_averaged(make_sample, runner_helpers):
    run_metric, _ = runner_helpers
    a = make_sample({'sal': [[0.9, 0.9, 0.9, 0.9]]}, {'sal': [[1, 1, 1, 1]]})
    b = make_sample({'sal': [[0.9, 0.1]]}, {'sal': [[0, 1]]})
    res = run_metric(SaliencyMetric(), [a, b])
    # t <= 0.1: TP 5, predicted 6, actual 5 -> P = 5/6, R = 1 (best);
    # 0.1 < t <= 0.9: TP 4, predicted 5, actual 5 -> P = R = 0.8
    p = 5 / 6
    assert res['sal/maxF'] == pytest.approx(100 * 1.3 * p / (0.3 * p + 1))


def test_sigmoid_quirk_changes_effective_thresholds(make_sample, runner_helpers):
    run_metric, _ = runner_helpers
    s = [make_sample({'sal': [[0.3, 0.1]]}, {'sal': [[1, 0]]})]
    assert run_metric(SaliencyMetric(), s)['sal/maxF'] == pytest.approx(100.0)
    # sigmoid(0.3)=0.574, sigmoid(0.1)=0.525: separable only at t = 0.55
    quirk = run_metric(SaliencyMetric(sigmoid_quirk=True), s)['sal/maxF']
    assert quirk == pytest.approx(100.0)
    s = [make_sample({'sal': [[0.15, 0.1]]}, {'sal': [[1, 0]]})]
    # sigmoid(0.15)=0.537 < 0.55: the quirk can no longer separate the pixels
    quirk = run_metric(SaliencyMetric(sigmoid_quirk=True), s)['sal/maxF']
    assert quirk == pytest.approx(100 * 1.3 * 0.5 / (0.3 * 0.5 + 1))


def test_empty_set_is_nan(make_sample, runner_helpers):
    run_metric, _ = runner_helpers
    res = run_metric(SaliencyMetric(), [make_sample({'sal': [[0.5]]}, {'sal': [[255]]})])
    assert math.isnan(res['sal/maxF'])


def test_batch_size_and_process_invariance(make_sample, runner_helpers):
    run_metric, run_two_ranks = runner_helpers
    rng = np.random.default_rng(0)
    samples = [make_sample({'sal': rng.random((4, 5))}, {'sal': rng.integers(0, 2, (4, 5))},
                           {'sal': i != 2}) for i in range(7)]
    r1 = run_metric(SaliencyMetric(), samples, 1)
    r8 = run_metric(SaliencyMetric(), samples, 8)
    assert r1 == r8 == run_two_ranks(SaliencyMetric, samples)
