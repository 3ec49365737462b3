"""The metrics, Δm save_best and the visualisation hook inside a real
mmengine Runner (tiny fake model and dataset; a few seconds on CPU)."""
import glob
import os.path as osp
import uuid

import numpy as np
import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from torch.utils.data import Dataset

H, W = 16, 20
META = dict(classes=('a', 'b'), palette=[[255, 0, 0], [0, 255, 0]],
            task_channels=dict(semseg=2, depth=1))


class _TinyMTLDataset(Dataset):
    metainfo = META

    def __len__(self):
        return 5

    def __getitem__(self, i):
        rng = np.random.default_rng(i)
        ds = SegDataSample()
        ds.set_metainfo(dict(img_path=f'/none/{i}.npy', task_mask=dict(semseg=True, depth=i > 0),
                             ori_shape=(H, W)))
        ds.gt_sem_seg = PixelData(data=torch.from_numpy(rng.integers(0, 2, (1, H, W))))
        ds.gt_depth_map = PixelData(data=torch.from_numpy(
            rng.uniform(1, 3, (1, H, W)).astype(np.float32)))
        img = torch.from_numpy(rng.integers(0, 256, (3, H, W), dtype=np.uint8))
        return dict(inputs=img, data_samples=ds)


class _FakeModel(BaseModel):
    """Predicts the ground truth, with an error that shrinks as it trains."""

    def __init__(self):
        super().__init__()
        self.err = torch.nn.Parameter(torch.tensor(0.5))

    def forward(self, inputs, data_samples=None, mode='tensor'):
        if mode == 'loss':
            return dict(loss=self.err ** 2)
        out = []
        for ds in data_samples:
            ds = ds.clone()
            ds.pred_sem_seg = PixelData(data=ds.gt_sem_seg.data.clone())
            ds.pred_depth_map = PixelData(data=ds.gt_depth_map.data + self.err.detach().abs())
            out.append(ds)
        return out


def _loader():
    return dict(dataset=_TinyMTLDataset(), batch_size=2, num_workers=0,
                sampler=dict(type='DefaultSampler', shuffle=False),
                collate_fn=dict(type='pseudo_collate'))


def test_runner_val_save_best_and_show_dir(tmp_path):
    evaluator = dict(type='MultiTaskMetric',
                     task_metrics=[dict(type='MTLIoUMetric', task='semseg'),
                              dict(type='MTLDepthMetric')],
                     baselines={'semseg/mIoU': 50.0, 'depth/absErr': 1.0})
    runner = Runner(
        model=_FakeModel(),
        work_dir=str(tmp_path),
        experiment_name=f'exp_{uuid.uuid4().hex}',
        default_scope='mmseg',
        train_dataloader=dict(_loader(), sampler=dict(type='InfiniteSampler', shuffle=False)),
        train_cfg=dict(by_epoch=False, max_iters=2, val_interval=1),
        val_dataloader=_loader(), val_cfg=dict(), val_evaluator=evaluator,
        test_dataloader=_loader(), test_cfg=dict(), test_evaluator=evaluator,
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.2)),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=10,
                            save_best='mtl/delta_m', rule='greater'),
            visualization=dict(type='MTLVisualizationHook', draw=True, interval=1,
                               test_out_dir='show')),
        visualizer=dict(type='MTLLocalVisualizer', name=f'vis_{uuid.uuid4().hex}',
                        vis_backends=[dict(type='LocalVisBackend')]),
        log_processor=dict(by_epoch=False))
    runner.train()
    assert glob.glob(osp.join(str(tmp_path), 'best_mtl_delta_m_iter_2.pth'))
    # err 0.5 -> 0.3 -> 0.18: delta_m = (100 + (1 - 0.18) * 100) / 2 at iter 2
    assert runner.message_hub.get_info('best_score') == pytest.approx(91.0)
    assert glob.glob(osp.join(str(tmp_path), '*', 'vis_data', 'vis_image', 'val_0_*.png'))
    metrics = runner.test()
    assert metrics['semseg/mIoU'] == 100.0
    assert 'mtl/delta_m' in metrics
    pngs = glob.glob(osp.join(str(tmp_path), runner.timestamp, 'show', '*.png'))
    assert len(pngs) == 5
