"""Every config in configs/ loads, its model builds and runs loss/predict on a
tiny batch, and its pipelines build."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

import mmdmtl  # noqa: F401
from mmdmtl.registry import MODELS
from mmdmtl.structures import get_task

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(p for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
                 if '_base_' not in osp.relpath(p, ROOT).split(osp.sep))


def _samples(tasks: dict, h: int, w: int, b: int = 2):
    out = []
    for i in range(b):
        d = SegDataSample()
        d.set_metainfo(dict(
            task_mask={t: (i + j) % 2 == 0 or b == 1 for j, t in enumerate(tasks)},
            img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w)))
        for t, c in tasks.items():
            spec = get_task(t)
            if t == 'depth':
                data = torch.rand(1, h, w) + 0.5
            elif t == 'normal':
                data = torch.nn.functional.normalize(torch.randn(3, h, w), dim=0)
            else:
                data = torch.randint(0, max(c, 2), (1, h, w))
            d.set_field(PixelData(data=data), spec.gt_field)
        out.append(d)
    return out


def test_configs_exist():
    names = [osp.basename(p) for p in CONFIGS]
    assert 'diffusionmtl_nyud.py' in names
    assert 'diffusionmtl_r18-lite_1xb8-1k_synthetic-96x128.py' in names
    assert len(CONFIGS) >= 8


@pytest.mark.parametrize('path', CONFIGS, ids=[osp.basename(p) for p in CONFIGS])
def test_config_builds_and_runs(path):
    cfg = Config.fromfile(path)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    assert cfg.runner_type == 'MTLRunner'
    assert cfg.custom_imports['imports'] == ['mmdmtl']
    # the head and the dataset agree on the tasks
    head_tasks = list(cfg.model.decode_head.tasks)
    assert head_tasks == list(cfg.train_dataloader.dataset.tasks)
    # pipelines build
    Compose(cfg.train_pipeline)
    Compose(cfg.test_pipeline)
    model = MODELS.build(cfg.model)
    h, w = 64, 96
    x = torch.rand(2, 3, h, w) * 255
    samples = _samples(dict(cfg.model.decode_head.tasks), h, w)
    data = model.data_preprocessor(dict(inputs=list(x), data_samples=samples), True)
    model.train()
    losses = model(**data, mode='loss')
    total = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total)
    total.backward()
    model.eval()
    with torch.no_grad():
        data = model.data_preprocessor(
            dict(inputs=list(x), data_samples=_samples(dict(cfg.model.decode_head.tasks), h, w)),
            False)
        preds = model(**data, mode='predict')
    for t in head_tasks:
        pred = getattr(preds[0], get_task(t).pred_field).data
        assert pred.shape[-2:] == (h, w)
