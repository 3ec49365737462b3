"""Full pipeline -> PackMTLInputs -> MTLDataPreProcessor, and the base configs."""
import glob
import os.path as osp

import numpy as np
import pytest
import torch
from dataset_writers import write_mtan
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

from mmdmtl.datasets import NYUDv2MTANDataset, generate_partial_split, save_partial_split
from mmdmtl.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
NYU3 = ['semseg', 'depth', 'normal']
MEAN, STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]


def _mixed_size_dataset(tmp_path, pipeline):
    root = str(tmp_path / 'nyu')
    write_mtan(root, n=2, h=10, w=14, seed=0)
    # a third, larger image
    big = str(tmp_path / 'big')
    write_mtan(big, n=1, h=13, w=17, seed=1)
    for sub in ('image', 'label', 'depth', 'normal'):
        np.save(osp.join(root, 'train', sub, '2.npy'),
                np.load(osp.join(big, 'train', sub, '0.npy')))
    split = generate_partial_split(3, NYU3, 'onelabel', seed=0)
    path = save_partial_split(split, str(tmp_path / 'split.json'))
    return NYUDv2MTANDataset(data_root=root, tasks=NYU3, split_file=path,
                             pipeline=pipeline), split


def test_train_round_trip_mixed_sizes_partial_masks(tmp_path):
    pipeline = [dict(type='LoadMultiTaskImage'), dict(type='LoadMultiTaskAnnotations'),
                dict(type='MTLRandomFlip', prob=1.0), dict(type='PackMTLInputs')]
    ds, split = _mixed_size_dataset(tmp_path, pipeline)
    pre = MODELS.build(dict(type='MTLDataPreProcessor', mean=MEAN, std=STD, bgr_to_rgb=True,
                            size_divisor=8))
    batch = pseudo_collate([ds[i] for i in range(3)])
    raw = [x.clone() for x in batch['inputs']]
    out = pre(batch, training=True)
    x, samples = out['inputs'], out['data_samples']
    assert x.shape == (3, 3, 16, 24) and x.dtype == torch.float32
    # normalisation + BGR->RGB on the valid region, pad value 0 elsewhere
    r = raw[0].float()[[2, 1, 0]]
    norm = (r - torch.tensor(MEAN).view(3, 1, 1)) / torch.tensor(STD).view(3, 1, 1)
    assert torch.allclose(x[0, :, :10, :14], norm)
    assert (x[0, :, 10:] == 0).all() and (x[0, :, :, 14:] == 0).all()
    for i, s in enumerate(samples):
        h, w = (10, 14) if i < 2 else (13, 17)
        assert s.task_mask == dict(zip(NYU3, split.mask[i].tolist()))
        assert s.img_shape == (h, w) and s.pad_shape == (16, 24)
        assert s.padding_size == (0, 24 - w, 0, 16 - h)
        sem, dep, nor = s.gt_sem_seg.data, s.gt_depth_map.data, s.gt_normal_map.data
        assert sem.shape == (1, 16, 24) and dep.shape == (1, 16, 24) and nor.shape == (3, 16, 24)
        assert (sem[:, h:] == 255).all() and (sem[:, :, w:] == 255).all()
        assert (dep[:, h:] == 0).all() and (dep[:, :, w:] == 0).all()
        assert (nor[:, h:] == 0).all() and (nor[:, :, w:] == 0).all()
        # unlabelled tasks are all-invalid, labelled ones have valid pixels
        assert bool((sem[:, :h, :w] != 255).any()) == s.task_mask['semseg']
        assert bool((dep[:, :h, :w] > 0).any()) == s.task_mask['depth']
        assert bool((nor[:, :h, :w] != 0).any()) == s.task_mask['normal']
    # batches stack
    assert torch.stack([s.gt_normal_map.data for s in samples]).shape == (3, 3, 16, 24)
    # without size / size_divisor: pad to the batch maximum
    batch = pseudo_collate([ds[i] for i in range(3)])
    out = MODELS.build(dict(type='MTLDataPreProcessor'))(batch, training=True)
    assert out['inputs'].shape == (3, 3, 13, 17)


def test_flip_in_pipeline_negates_packed_normal_x(tmp_path):
    base = [dict(type='LoadMultiTaskImage'), dict(type='LoadMultiTaskAnnotations')]
    ds, _ = _mixed_size_dataset(tmp_path, base + [dict(type='PackMTLInputs')])
    ds_f, _ = _mixed_size_dataset(tmp_path, base + [dict(type='MTLRandomFlip', prob=1.0),
                                                    dict(type='PackMTLInputs')])
    for i in range(3):
        a = ds[i]['data_samples'].gt_normal_map.data
        b = ds_f[i]['data_samples'].gt_normal_map.data
        assert torch.equal(b[0], -a[0].flip(-1)) and torch.equal(b[1:], a[1:].flip(-1))


def test_test_time_padding(tmp_path):
    pipeline = [dict(type='LoadMultiTaskImage'), dict(type='LoadMultiTaskAnnotations'),
                dict(type='PackMTLInputs')]
    ds, _ = _mixed_size_dataset(tmp_path, pipeline)
    pre = MODELS.build(dict(type='MTLDataPreProcessor', mean=MEAN, std=STD, bgr_to_rgb=True,
                            test_cfg=dict(size_divisor=32)))
    out = pre(pseudo_collate([ds[0]]), training=False)
    s = out['data_samples'][0]
    assert out['inputs'].shape == (1, 3, 32, 32)
    assert s.padding_size == (0, 18, 0, 22) and s.img_padding_size == (0, 18, 0, 22)
    assert s.gt_sem_seg.data.shape == (1, 10, 14)  # test ground truth keeps its size
    # no test_cfg: equal sizes stack unpadded, mixed sizes pad to the largest
    pre2 = MODELS.build(dict(type='MTLDataPreProcessor'))
    assert pre2(pseudo_collate([ds[0], ds[1]]), training=False)['inputs'].shape == (2, 3, 10, 14)
    mixed = pre2(pseudo_collate([ds[0], ds[2]]), training=False)
    assert mixed['inputs'].shape == (2, 3, 13, 17)
    assert mixed['data_samples'][0].padding_size == (0, 3, 0, 3)


DATASET_BASES = sorted(p for p in glob.glob(osp.join(ROOT, 'configs', '_base_', 'datasets', '*.py'))
                       if osp.basename(p) != 'mtl_common.py')


@pytest.mark.parametrize('path', DATASET_BASES)
def test_base_dataset_configs(path):
    cfg = Config.fromfile(path)
    # every dataset base inherits the shared loaders / test pipeline
    with open(path, encoding='utf-8') as f:
        assert "_base_ = ['./mtl_common.py']" in f.read()
    for key in ('dataset_type', 'data_root', 'tasks', 'train_pipeline', 'test_pipeline',
                'train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert key in cfg, key
    assert cfg.train_dataloader.dataset.type == cfg.dataset_type
    assert cfg.val_dataloader.dataset.test_mode is True
    from mmdmtl.registry import TRANSFORMS
    for t in cfg.train_pipeline + cfg.test_pipeline:
        TRANSFORMS.build(t)


def test_synthetic_config_runs_on_fixture(tmp_path):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', '_base_', 'datasets',
                                   'synthetic_indoor.py'))
    root = str(tmp_path / 'syn')
    write_mtan(root, 'train', n=4, h=96, w=128, with_edge=True)
    ds_cfg = cfg.train_dataloader.dataset.copy()
    ds_cfg.pop('type')
    for k in ('num_train', 'num_val', 'height', 'width', 'seed', 'split_mode'):
        ds_cfg.pop(k)
    ds_cfg.data_root = root
    ds = NYUDv2MTANDataset(**ds_cfg)
    pre = MODELS.build(dict(type='MTLDataPreProcessor', mean=MEAN, std=STD, bgr_to_rgb=True,
                            size=(96, 128)))
    np.random.seed(0)
    out = pre(pseudo_collate([ds[i] for i in range(4)]), training=True)
    assert out['inputs'].shape == (4, 3, 96, 128)
    assert out['data_samples'][0].gt_edge_map.data.shape == (1, 96, 128)
