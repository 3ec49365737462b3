"""Training samples are padded once, by the data preprocessor, with the same
values the former ``MTLPad`` pipeline step gave."""
import glob
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope

import mmdmtl  # noqa: F401
from mmdmtl.datasets.transforms import MTLPad, PackMTLInputs
from mmdmtl.registry import MODELS
from mmdmtl.structures import MTLDataSample

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
QUICK_START = osp.join(ROOT, 'configs', 'diffusionmtl',
                       'diffusionmtl_r18-lite_1xb8-1k_synthetic-96x128.py')
TASKS = ('semseg', 'depth', 'normal', 'edge')


def _results(h, w, seed):
    rng = np.random.RandomState(seed)
    normal = rng.randn(h, w, 3).astype(np.float32)
    return dict(img=rng.randint(0, 256, (h, w, 3), np.uint8),
                gt_seg_map=rng.randint(0, 10, (h, w)).astype(np.uint8),
                gt_depth_map=rng.uniform(0.5, 5, (h, w)).astype(np.float32),
                gt_normal_map=normal / np.linalg.norm(normal, axis=-1, keepdims=True),
                gt_edge_map=rng.randint(0, 2, (h, w)).astype(np.uint8),
                seg_fields=['gt_seg_map', 'gt_depth_map', 'gt_normal_map', 'gt_edge_map'],
                task_mask={t: True for t in TASKS}, sample_idx=seed)


def _pipeline_crops(cfg):
    return [step['crop_size'] for step in cfg.train_dataloader.dataset.pipeline
            if step['type'] == 'MTLRandomCrop']


def test_quick_start_preprocessor_pads_exactly_as_mtlpad_did():
    init_default_scope('mmseg')
    cfg = Config.fromfile(QUICK_START)
    crop = tuple(_pipeline_crops(cfg)[0])
    pre = MODELS.build(cfg.model.data_preprocessor)
    shapes = [(70, 100), crop, (96, 90)]  # crops of images smaller than the crop size
    with pytest.warns(DeprecationWarning, match='MTLPad is deprecated'):
        pad = MTLPad(size=crop)
    pack = PackMTLInputs()
    old = pre(pseudo_collate([pack(pad(_results(h, w, i))) for i, (h, w) in
                              enumerate(shapes)]), True)
    new = pre(pseudo_collate([pack(_results(h, w, i)) for i, (h, w) in enumerate(shapes)]),
              True)
    assert new['inputs'].shape == (3, 3) + crop
    assert torch.equal(old['inputs'], new['inputs'])  # black (raw 0) padding, bit for bit
    for a, b, (h, w) in zip(old['data_samples'], new['data_samples'], shapes):
        assert isinstance(b, MTLDataSample)
        for t in TASKS:
            assert torch.equal(a.gt(t), b.gt(t)), t
        assert (b.gt('semseg')[:, h:] == 255).all() and (b.gt('depth')[:, :, w:] == 0).all()

    assert cfg.model.data_preprocessor.pad_raw_in_training
    mmseg_like = MODELS.build(dict(cfg.model.data_preprocessor, pad_raw_in_training=False))
    after = mmseg_like(pseudo_collate([pack(_results(70, 100, 0))]), True)['inputs']
    assert torch.allclose(after[0, :, 80:, :], torch.zeros(()))  # mean colour after norm


@pytest.mark.parametrize('path', sorted(
    p for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p))
def test_shipped_configs_pad_only_in_the_preprocessor(path):
    cfg = Config.fromfile(path)
    pipeline = cfg.train_dataloader.dataset.pipeline
    assert 'MTLPad' not in [step['type'] for step in pipeline]
    for crop in _pipeline_crops(cfg):
        size = cfg.model.data_preprocessor.get('size')
        assert size is not None and tuple(size) == tuple(crop), (size, crop)
        assert cfg.model.data_preprocessor.get('pad_raw_in_training')
