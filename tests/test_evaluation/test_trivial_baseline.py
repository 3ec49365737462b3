"""The constant (trivial) predictor: fitted constants and its metrics."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmdmtl.evaluation.trivial_baseline import fit_constant_predictor, trivial_baseline_metrics

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _sample(seg, depth, normal, edge, mask):
    s = SegDataSample()
    s.set_metainfo(dict(task_mask=mask))
    s.gt_sem_seg = PixelData(data=torch.tensor(seg)[None])
    s.gt_depth_map = PixelData(data=torch.tensor(depth, dtype=torch.float32)[None])
    s.gt_normal_map = PixelData(data=torch.tensor(normal, dtype=torch.float32))
    s.gt_edge_map = PixelData(data=torch.tensor(edge)[None])
    return dict(data_samples=s)


def test_constants_use_only_labelled_valid_pixels():
    up = np.zeros((3, 2, 2), np.float32)
    up[1] = 1.0
    side = np.zeros((3, 2, 2), np.float32)
    side[0] = 1.0
    side[:, 0, 0] = 0.0  # one invalid normal
    tasks = ['semseg', 'depth', 'normal', 'edge']
    ds = [
        _sample([[2, 2], [255, 1]], [[1.0, 0.0], [3.0, 5.0]], up, [[1, 0], [255, 0]],
                dict(semseg=True, depth=True, normal=True, edge=True)),
        # labelled only for normals: its (otherwise valid-looking) seg/depth/edge are ignored
        _sample([[1, 1], [1, 1]], [[9.0, 9.0], [9.0, 9.0]], side, [[1, 1], [1, 1]],
                dict(semseg=False, depth=False, normal=True, edge=False)),
    ]
    c = fit_constant_predictor(ds, tasks, progress=False)
    assert int(c['semseg']) == 2
    assert float(c['depth']) == pytest.approx(3.0)  # median of 1, 3, 5 (0 = invalid)
    expected = np.array([3.0, 4.0, 0.0]) / 5.0  # 4 x up + 3 x side, normalised
    np.testing.assert_allclose(c['normal'], expected, atol=1e-6)
    assert float(c['edge']) == pytest.approx(1 / 3)


def test_task_without_any_label_raises():
    ds = [_sample([[255]], [[0.0]], np.zeros((3, 1, 1), np.float32), [[0]],
                  dict(semseg=True, depth=True, normal=True, edge=True))]
    with pytest.raises(ValueError, match="no valid 'semseg'"):
        fit_constant_predictor(ds, ['semseg'], progress=False)


def test_trivial_metrics_on_the_embedded_dataset(tmp_path):
    cfg = Config.fromfile(osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_synthetic.py'))
    for k in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[k].dataset.data_root = str(tmp_path / 'synthetic')
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')
    m = trivial_baseline_metrics(cfg, progress=False)
    # one class everywhere: mIoU is that class's IoU / number of classes
    assert 0 < m['semseg/mIoU'] < 100 / 9 + 1e-6
    # the predicted class is fully recalled, every other class not at all
    assert m['semseg/mAcc'] <= 100 / 9 + 1e-6
    assert m['depth/absErr'] > 0.3 and m['normal/mean'] > 25
    assert m['edge/odsF'] < 10

