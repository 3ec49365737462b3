"""MTLVisualizationHook: draws from data_batch['inputs'] in val and test."""
import os.path as osp
import uuid
from types import SimpleNamespace

import numpy as np
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmdmtl.engine.hooks.visualization_hook import input_to_rgb
from mmdmtl.registry import HOOKS, VISUALIZERS

H, W = 24, 32


def _batch(n=2):
    inputs, outputs = [], []
    for i in range(n):
        img = torch.zeros(3, H, W, dtype=torch.uint8)
        img[0] = 255  # blue in BGR
        inputs.append(img)
        ds = SegDataSample()
        ds.set_metainfo(dict(img_path=f'/data/img_{i}.npy', task_mask=dict(depth=i == 0)))
        ds.gt_depth_map = PixelData(data=torch.rand(1, H, W) + 1)
        ds.pred_depth_map = PixelData(data=torch.rand(1, H, W) + 1)
        outputs.append(ds)
    return dict(inputs=inputs, data_samples=outputs), outputs


def _setup(tmp_path):
    vis = VISUALIZERS.build(dict(type='MTLLocalVisualizer', name=f'v_{uuid.uuid4().hex}',
                                 save_dir=str(tmp_path / 'vis'),
                                 vis_backends=[dict(type='LocalVisBackend')]))
    runner = SimpleNamespace(iter=7, work_dir=str(tmp_path), timestamp='20240101_000000')
    return vis, runner


def test_input_to_rgb_converts_bgr():
    img = torch.zeros(3, 2, 2, dtype=torch.uint8)
    img[0] = 255
    rgb = input_to_rgb(img)
    assert rgb.shape == (2, 2, 3) and rgb[0, 0].tolist() == [0, 0, 255]
    assert input_to_rgb(np.full((1, 2, 2), 300.0)).tolist() == [[[255] * 3] * 2] * 2


def test_val_draws_every_interval(tmp_path):
    _, runner = _setup(tmp_path)
    hook = HOOKS.build(dict(type='MTLVisualizationHook', draw=True, interval=2))
    batch, outputs = _batch()
    hook.after_val_iter(runner, 0, batch, outputs)  # batch 0: not the 2nd
    vis_dir = tmp_path / 'vis' / 'vis_data' / 'vis_image'
    assert not vis_dir.exists() or not list(vis_dir.iterdir())
    hook.after_val_iter(runner, 1, batch, outputs)
    assert sorted(p.name for p in vis_dir.iterdir()) == ['val_img_0_7.png', 'val_img_1_7.png']


def test_test_writes_one_png_per_sample_to_show_dir(tmp_path):
    _, runner = _setup(tmp_path)
    hook = HOOKS.build(dict(type='MTLVisualizationHook', draw=True, test_out_dir='show'))
    hook.before_test(runner)
    batch, outputs = _batch(3)
    hook.after_test_iter(runner, 0, batch, outputs)
    out_dir = osp.join(str(tmp_path), runner.timestamp, 'show')
    import cv2
    names = sorted(p for p in __import__('os').listdir(out_dir))
    assert names == ['img_0.png', 'img_1.png', 'img_2.png']
    png = cv2.imread(osp.join(out_dir, 'img_0.png'))
    assert png.shape[1] > 2 * W and png.shape[0] > 2 * H
    # the input image (blue in RGB) is drawn in the top-left panel
    vis = __import__('mmengine').visualization.Visualizer.get_current_instance()
    th = vis.title_height(H)
    assert png[th + 2, 2].tolist() == [255, 0, 0]  # BGR on disk: blue


def test_draw_false_does_nothing(tmp_path):
    _, runner = _setup(tmp_path)
    hook = HOOKS.build(dict(type='MTLVisualizationHook', draw=False, test_out_dir='show'))
    hook.before_test(runner)
    batch, outputs = _batch()
    hook.after_test_iter(runner, 0, batch, outputs)
    assert not (tmp_path / runner.timestamp).exists()
