"""Tiny models and data samples shared by the model tests."""
import copy
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.config import ConfigDict
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

import mmdmtl  # noqa: F401  (registers the modules)
from mmdmtl.registry import MODELS
from mmdmtl.structures.tasks import get_task

init_default_scope('mmseg')

NYUD_TASKS = dict(semseg=5, depth=1, normal=3)
ALL_TASKS = dict(semseg=5, parts=3, sal=1, edge=1, depth=1, normal=3)

R18 = dict(type='ResNetV1c', depth=18, out_indices=(0, 1, 2, 3), norm_cfg=dict(type='BN'),
           init_cfg=None)
R50 = dict(type='ResNetV1c', depth=50, out_indices=(0, 1, 2, 3), norm_cfg=dict(type='BN'),
           init_cfg=None)
MIT_B0 = dict(type='MixVisionTransformer', in_channels=3, embed_dims=32, num_stages=4,
              num_layers=[2, 2, 2, 2], num_heads=[1, 2, 5, 8], patch_sizes=[7, 3, 3, 3],
              sr_ratios=[8, 4, 2, 1], out_indices=(0, 1, 2, 3), mlp_ratio=4, qkv_bias=True,
              init_cfg=None)
CHANNELS = {'R18': [64, 128, 256, 512], 'R50': [256, 512, 1024, 2048],
            'MIT_B0': [32, 64, 160, 256]}


def head_cfg(tasks: Dict[str, int] = NYUD_TASKS, in_channels=(64, 128, 256, 512),
             **kwargs) -> dict:
    """A lite DiffusionMTLHead config."""
    cfg = dict(type='DiffusionMTLHead', in_channels=list(in_channels), tasks=dict(tasks),
               preset='lite', embed_dims=16, head_channels=16, num_heads=2)
    cfg.update(kwargs)
    return cfg


def model_cfg(backbone: dict = R18, head: Optional[dict] = None, **kwargs) -> ConfigDict:
    """A MultiTaskEncoderDecoder config with mmseg's plain data preprocessor."""
    cfg = dict(
        type='MultiTaskEncoderDecoder',
        data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375], bgr_to_rgb=True, size=(32, 48)),
        backbone=copy.deepcopy(backbone), decode_head=head or head_cfg(),
        train_cfg=dict(), test_cfg=dict(mode='whole'))
    cfg.update(kwargs)
    return ConfigDict(cfg)


def build(cfg) -> torch.nn.Module:
    """Build a model from a config."""
    return MODELS.build(cfg)


def make_samples(n: int, h: int, w: int, tasks: Sequence[str],
                 labelled: Optional[List[Sequence[str]]] = None, seed: int = 0,
                 ori_shape=None, smooth: bool = False) -> List[SegDataSample]:
    """Data samples with random (``smooth``: simple learnable) valid targets
    for labelled tasks and all-invalid ones for the others."""
    g = torch.Generator().manual_seed(seed)
    samples = []
    for i in range(n):
        lab = list(tasks) if labelled is None else list(labelled[i])
        s = SegDataSample()
        s.set_metainfo(dict(img_shape=(h, w), pad_shape=(h, w), ori_shape=ori_shape or (h, w),
                            padding_size=[0, 0, 0, 0], task_mask={t: t in lab for t in tasks}))
        for t in tasks:
            spec = get_task(t)
            if spec.kind == 'segmentation':
                data = torch.randint(0, 3, (1, h, w), generator=g)
            elif spec.kind == 'binary':
                data = (torch.rand(1, h, w, generator=g) > 0.7).long()
            elif spec.kind == 'depth':
                data = 0.5 + 3 * torch.rand(1, h, w, generator=g)
            else:
                data = torch.nn.functional.normalize(torch.randn(3, h, w, generator=g), dim=0)
            if smooth:
                ramp = torch.linspace(0, 1, w).expand(1, h, w)
                if spec.kind in ('segmentation', 'binary'):
                    data = (ramp > 0.5).long()
                elif spec.kind == 'depth':
                    data = 1.0 + ramp
                else:
                    data = torch.tensor([0.0, 0.6, 0.8]).view(3, 1, 1).expand(3, h, w).clone()
            if t not in lab:
                data = torch.full_like(data, spec.invalid_value)
            s.set_field(PixelData(data=data), spec.gt_field)
        samples.append(s)
    return samples


def fake_feats(b: int, h: int, w: int, channels=(64, 128, 256, 512), seed: int = 0):
    """Backbone-like features for an (h, w) input (strides 4..32)."""
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(b, c, max(1, h // s), max(1, w // s), generator=g)
            for c, s in zip(channels, (4, 8, 16, 32))]
