"""MTLIoUMetric: hand-computed mIoU, class sources, invariance."""
import numpy as np
import pytest

from mmdmtl.evaluation import MTLIoUMetric

META = dict(classes=('a', 'b', 'c'), palette=[[0, 0, 0]] * 3,
            parts_classes=('bg', 'head'), task_channels=dict(semseg=3, parts=2))


def test_hand_computed_miou(make_sample, runner_helpers):
    run_metric, _ = runner_helpers
    gt = [[0, 0, 1], [1, 2, 255]]
    pred = [[0, 1, 1], [1, 2, 0]]
    out_of_range = make_sample({'semseg': [[0, 1]]}, {'semseg': [[7, 7]]})
    unlabelled = make_sample({'semseg': [[0, 1]]}, {'semseg': [[1, 0]]}, {'semseg': False})
    res = run_metric(MTLIoUMetric(), [make_sample({'semseg': pred}, {'semseg': gt}),
                                      out_of_range, unlabelled], dataset_meta=META)
    # IoU: class a 1/2, class b 2/3, class c 1/1
    assert res['semseg/mIoU'] == pytest.approx(100 * (0.5 + 2 / 3 + 1) / 3)
    assert res['semseg/aAcc'] == pytest.approx(80.0)
    assert res['semseg/mAcc'] == pytest.approx(100 * (0.5 + 1 + 1) / 3)


def test_absent_class_nan_vs_zero(make_sample, runner_helpers):
    run_metric, _ = runner_helpers
    s = [make_sample({'semseg': [[0, 1]]}, {'semseg': [[0, 1]]})]
    assert run_metric(MTLIoUMetric(), s, dataset_meta=META)['semseg/mIoU'] == \
        pytest.approx(100.0)
    assert run_metric(MTLIoUMetric(nan_to_num=0), s, dataset_meta=META)['semseg/mIoU'] == \
        pytest.approx(200 / 3)


def test_parts_uses_parts_classes_and_own_fields(make_sample, runner_helpers):
    run_metric, _ = runner_helpers
    s = [make_sample({'parts': [[0, 1, 1]], 'semseg': [[2, 2, 2]]},
                     {'parts': [[0, 1, 0]], 'semseg': [[0, 0, 0]]})]
    m = MTLIoUMetric(task='parts')
    res = run_metric(m, s, dataset_meta=META)
    assert m.num_classes == 2
    assert res['parts/mIoU'] == pytest.approx(100 * (0.5 + 0.5) / 2)


def test_num_classes_errors():
    with pytest.raises(ValueError, match='label-map'):
        MTLIoUMetric(task='depth')
    m = MTLIoUMetric()
    m.dataset_meta = {}
    with pytest.raises(ValueError, match='num_classes'):
        _ = m.num_classes


def test_batch_size_and_process_invariance(make_sample, runner_helpers):
    run_metric, run_two_ranks = runner_helpers
    rng = np.random.default_rng(0)
    samples = []
    for i in range(10):
        gt = rng.integers(0, 3, (5, 6))
        gt[rng.random((5, 6)) < 0.2] = 255
        samples.append(make_sample({'semseg': rng.integers(0, 3, (5, 6))}, {'semseg': gt},
                                   {'semseg': i % 3 != 0}))
    r1 = run_metric(MTLIoUMetric(), samples, 1, META)
    r8 = run_metric(MTLIoUMetric(), samples, 8, META)
    r2p = run_two_ranks(MTLIoUMetric, samples, META)
    assert r1 == r8 == r2p
