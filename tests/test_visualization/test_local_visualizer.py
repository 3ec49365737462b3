"""MTLLocalVisualizer: grid layout, panels, invalid and unlabelled regions."""
import os.path as osp
import uuid

import cv2
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmdmtl.registry import VISUALIZERS
from mmdmtl.visualization import MTLLocalVisualizer
from mmdmtl.visualization.local_visualizer import _HATCH

H, W = 48, 64
META = dict(classes=('a', 'b', 'c'), palette=[[200, 0, 0], [0, 200, 0], [0, 0, 200]])


def _visualizer(tmp_path, **kwargs):
    vis = VISUALIZERS.build(dict(type='MTLLocalVisualizer', name=f'vis_{uuid.uuid4().hex}',
                                 save_dir=str(tmp_path),
                                 vis_backends=[dict(type='LocalVisBackend')], **kwargs))
    vis.dataset_meta = META
    return vis


def _sample(mask=None):
    seg = np.zeros((H, W), np.int64)
    seg[:, 32:] = 1
    seg[:8] = 255
    depth = np.tile(np.linspace(1, 4, W, dtype=np.float32), (H, 1))
    depth[30:40, 5:20] = 0
    normal = np.zeros((3, H, W), np.float32)
    normal[2] = 1.0
    normal[:, :, :6] = 0
    ds = SegDataSample()
    ds.set_metainfo(dict(img_path='x/s.png', task_mask=mask or dict(semseg=True, depth=True,
                                                                    normal=True)))
    ds.gt_sem_seg = PixelData(data=torch.from_numpy(seg)[None])
    ds.pred_sem_seg = PixelData(data=torch.ones(1, H, W, dtype=torch.long))
    ds.gt_depth_map = PixelData(data=torch.from_numpy(depth)[None])
    ds.pred_depth_map = PixelData(data=torch.from_numpy(depth)[None] + 0.5)
    ds.gt_normal_map = PixelData(data=torch.from_numpy(normal))
    pred_n = torch.zeros(3, H, W)
    pred_n[0] = 2.0  # unnormalised +x
    ds.pred_normal_map = PixelData(data=pred_n)
    return ds


def _image():
    return np.full((H, W, 3), 128, np.uint8)


def _panel(img, vis, row, col):
    th = vis.title_height(H)
    y0 = row * (th + H) + th
    return img[y0:y0 + H, col * W:(col + 1) * W]


def _has_hatch(region):
    cols = {tuple(c) for c in region.reshape(-1, 3)}
    return tuple(_HATCH[0]) in cols and tuple(_HATCH[1]) in cols


def test_three_task_grid_png(tmp_path):
    vis = _visualizer(tmp_path)
    out = str(tmp_path / 'grid.png')
    drawn = vis.add_datasample('s', _image(), _sample(), out_file=out)
    assert osp.isfile(out)
    png = cv2.imread(out)[..., ::-1]
    th = vis.title_height(H)
    assert png.shape == ((1 + 3) * (th + H), 2 * W + vis.colorbar_width(W), 3)
    np.testing.assert_array_equal(png, drawn)
    # row 0: image; rows 1-3: semseg, depth, normal
    np.testing.assert_array_equal(_panel(png, vis, 0, 0), _image())
    seg_gt = _panel(png, vis, 1, 0)
    assert _has_hatch(seg_gt[:8]) and not _has_hatch(seg_gt[10:])
    # class 1 (green) blended over grey: green channel dominates on the right
    assert seg_gt[20, 50, 1] > seg_gt[20, 50, 0] + 50
    depth_gt = _panel(png, vis, 2, 0)
    assert _has_hatch(depth_gt[30:40, 5:20])
    assert not np.array_equal(depth_gt[20, 2], depth_gt[20, 60])  # colour varies with depth
    normal_pred = _panel(png, vis, 3, 1)
    np.testing.assert_array_equal(normal_pred[10, 30], [255, 127, 127])  # (n + 1) / 2
    normal_gt = _panel(png, vis, 3, 0)
    np.testing.assert_array_equal(normal_gt[10, 30], [127, 127, 255])
    assert _has_hatch(normal_gt[:, :6])
    # colour bar column on the depth row only has content
    bar = png[2 * (th + H) + th:3 * (th + H), 2 * W:]
    assert bar.std() > 10


def test_unlabelled_task_is_marked(tmp_path):
    vis = _visualizer(tmp_path)
    out = str(tmp_path / 'unl.png')
    vis.add_datasample('s', _image(), _sample(dict(semseg=True, depth=False, normal=True)),
                       out_file=out)
    png = cv2.imread(out)[..., ::-1]
    depth_gt = _panel(png, vis, 2, 0)
    # the whole GT panel is hatched (a text box in the middle), no depth colours
    assert _has_hatch(depth_gt[:10]) and _has_hatch(depth_gt[-10:])
    depth_pred = _panel(png, vis, 2, 1)
    assert not _has_hatch(depth_pred)
    assert png.shape[0] == 4 * (vis.title_height(H) + H)


def test_prediction_only_and_backend_storage(tmp_path):
    vis = _visualizer(tmp_path)
    ds = _sample()
    drawn = vis.add_datasample('only_pred', _image(), ds, draw_gt=False, step=3)
    assert drawn.shape[1] == W + vis.colorbar_width(W)
    saved = tmp_path / 'vis_data' / 'vis_image' / 'only_pred_3.png'
    assert saved.is_file()
    with pytest.raises(ValueError, match='both False'):
        vis.add_datasample('n', _image(), ds, draw_gt=False, draw_pred=False)


def test_image_is_resized_and_missing_prediction(tmp_path):
    vis = _visualizer(tmp_path)
    ds = SegDataSample()
    ds.gt_edge_map = PixelData(data=torch.zeros(1, H, W, dtype=torch.long))
    drawn = vis.add_datasample('e', np.zeros((2 * H, 2 * W, 3), np.uint8), ds)
    th = vis.title_height(H)
    assert drawn.shape == (2 * (th + H), 2 * W, 3)  # no depth -> no colour bar
    assert _has_hatch(drawn[th + H + th:, W:])  # 'no prediction' panel


def test_classes_and_palette_arguments_are_not_swapped(tmp_path):
    vis = MTLLocalVisualizer(name=f'v_{uuid.uuid4().hex}', classes=['x', 'y'],
                             palette=[[1, 2, 3], [4, 5, 6]])
    assert vis.dataset_meta['classes'] == ['x', 'y']
