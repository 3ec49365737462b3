"""The schedules use torch's fused (single-kernel) Adam/AdamW: the same
update as the per-parameter loop within float32 rounding, on the real model
and through mmengine's optimiser wrapper (clipping included). Its speed is
measured by tools/analysis_tools/benchmark.py (--plain-adam), not here."""
import copy
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

import mmdmtl  # noqa: F401
from mmdmtl.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LITE = osp.join(ROOT, 'configs', 'diffusionmtl',
                'diffusionmtl_r18-lite_1xb8-1k_synthetic-96x128.py')


@pytest.mark.parametrize('path', sorted(glob.glob(osp.join(ROOT, 'configs', '_base_',
                                                           'schedules', '*.py'))))
def test_schedules_use_the_fused_optimiser(path):
    opt = Config.fromfile(path).optim_wrapper.optimizer
    assert opt.type in ('Adam', 'AdamW') and opt.fused is True


def _train(cfg, fused: bool, steps: int = 3):
    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(cfg.model))
    optim_cfg = copy.deepcopy(cfg.optim_wrapper)
    optim_cfg.optimizer.fused = fused
    wrapper = build_optim_wrapper(model, optim_cfg)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 3, 32, 48, generator=g)
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    samples = []
    for i in range(2):
        s = SegDataSample()
        s.set_metainfo(dict(img_shape=(32, 48), ori_shape=(32, 48), pad_shape=(32, 48),
                            task_mask=dict(semseg=True, depth=i == 0, normal=i == 1,
                                           edge=True)))
        s.gt_sem_seg = PixelData(data=torch.randint(0, 10, (1, 32, 48), generator=g))
        s.gt_depth_map = PixelData(data=torch.rand(1, 32, 48, generator=g) + 1)
        s.gt_normal_map = PixelData(data=torch.nn.functional.normalize(
            torch.randn(3, 32, 48, generator=g), dim=0))
        s.gt_edge_map = PixelData(data=(torch.rand(1, 32, 48, generator=g) > 0.8).long())
        samples.append(s)
    model.train()
    for _ in range(steps):
        losses = model(x, copy.copy(samples), mode='loss')
        wrapper.update_params(sum(v for k, v in losses.items() if 'loss' in k))
    assert type(wrapper.optimizer).__name__ == 'AdamW'
    assert wrapper.optimizer.defaults['fused'] is fused
    return model


def test_fused_and_loop_optimisers_give_the_same_weights():
    """One step from the same weights and gradients: the same update within
    float32 rounding. (Over several steps Adam amplifies last-bit differences
    of near-zero gradients into ±lr steps, for either implementation.)"""
    cfg = Config.fromfile(LITE)
    init_default_scope('mmseg')
    a = _train(cfg, fused=True, steps=1).state_dict()
    b = _train(cfg, fused=False, steps=1).state_dict()
    torch.manual_seed(0)
    init = MODELS.build(copy.deepcopy(cfg.model)).state_dict()
    changed = 0
    for k in a:
        if a[k].dtype.is_floating_point:
            torch.testing.assert_close(a[k] - init[k], b[k] - init[k], rtol=1e-4, atol=1e-7,
                                       msg=k)
            changed += int(not torch.equal(a[k], init[k]))
    assert changed > 100  # the steps really moved the weights
