"""Every config's val/test evaluator builds, agrees with the config's head
and dataset, and evaluates one sample of every task (process + evaluate),
including Δm against its baselines. (Until this test existed only the models
were built, and stl-depth crashed at its first validation.)"""
import glob
import math
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

import mmdmtl  # noqa: F401
from mmdmtl.engine.consistency import (
    check_evaluator_baselines,
    check_evaluator_tasks,
    check_head_matches_metainfo,
    declared_metric_keys,
)
from mmdmtl.registry import DATASETS
from mmdmtl.structures import get_task

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(p for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
                 if '_base_' not in osp.relpath(p, ROOT).split(osp.sep))
H, W = 12, 16

#: The single-task configs that Δm of the multi-task configs needs.
STL_CONFIGS = [
    'stl-semseg_r18_1xb4-40k_nyud-288x384.py',
    'stl-depth_r18_1xb4-40k_nyud-288x384.py',
    'stl-normal_r18_1xb4-40k_nyud-288x384.py',
] + [f'stl-{t}_r18_1xb6-80k_pascal-context-mt-512x512.py'
     for t in ('semseg', 'parts', 'sal', 'normal', 'edge')]


def _dataset_meta(cfg: Config, loader: str) -> dict:
    """The metainfo the runner would give the evaluator: the dataset class's
    METAINFO, the config's metainfo overrides and its selected tasks."""
    ds_cfg = cfg[loader].dataset
    cls = DATASETS.get(ds_cfg.type)
    meta = dict(cls.METAINFO, **(ds_cfg.get('metainfo') or {}))
    meta['tasks'] = tuple(ds_cfg.get('tasks') or cls.METAINFO['tasks'])
    return meta


def _one_sample(tasks: dict, seed: int = 0) -> SegDataSample:
    """One sample with ground truth and a (non-trivial) prediction of every
    task, with the head's class counts."""
    g = torch.Generator().manual_seed(seed)
    ds = SegDataSample()
    ds.set_metainfo(dict(img_path=f'sample{seed}.png', ori_shape=(H, W), img_shape=(H, W),
                         task_mask={t: True for t in tasks}))
    for task, c in tasks.items():
        spec = get_task(task)
        if spec.kind == 'segmentation':
            gt = torch.randint(0, c, (1, H, W), generator=g)
            pred = torch.where(torch.rand(1, H, W, generator=g) < 0.7, gt,
                               torch.randint(0, c, (1, H, W), generator=g))
        elif spec.kind == 'depth':
            gt = torch.rand(1, H, W, generator=g) * 5 + 0.5
            pred = gt + torch.randn(1, H, W, generator=g) * 0.3
        elif spec.kind == 'normal':
            gt = torch.nn.functional.normalize(torch.randn(3, H, W, generator=g), dim=0)
            pred = torch.nn.functional.normalize(
                gt + 0.3 * torch.randn(3, H, W, generator=g), dim=0)
        else:  # binary: saliency, edge
            gt = (torch.rand(1, H, W, generator=g) < 0.3).long()
            pred = (0.6 * gt + 0.4 * torch.rand(1, H, W, generator=g)).float()
        ds.set_field(PixelData(data=gt), spec.gt_field)
        ds.set_field(PixelData(data=pred), spec.pred_field)
    return ds


def test_config_list_has_the_single_task_configs():
    names = {osp.basename(p) for p in CONFIGS}
    assert set(STL_CONFIGS) <= names
    assert len(CONFIGS) >= 18


@pytest.mark.parametrize('path', CONFIGS, ids=[osp.relpath(p, ROOT) for p in CONFIGS])
def test_config_evaluators_evaluate_every_task(path):
    init_default_scope('mmseg')
    cfg = Config.fromfile(path)
    head = dict(cfg.model.decode_head.tasks)
    for loader, key in (('val_dataloader', 'val_evaluator'),
                        ('test_dataloader', 'test_evaluator')):
        meta = _dataset_meta(cfg, loader)
        check_head_matches_metainfo(head, meta, where=loader)
        evaluator = Evaluator(cfg[key])
        # what MTLRunner checks before training
        check_evaluator_tasks(head, evaluator, where=key)
        check_evaluator_baselines(evaluator, where=key)
        evaluator.dataset_meta = meta
        evaluator.process(data_samples=[_one_sample(head)], data_batch={})
        res = evaluator.evaluate(1)
        # every task of the head is evaluated, with the keys each metric declares
        declared = [k for m in evaluator.metrics for sub in getattr(m, 'metrics', [m])
                    for k in declared_metric_keys(sub) or []]
        assert {k.split('/')[0] for k in declared} == set(head), (key, declared)
        # exactly the declared keys (what the consistency check relies on) + Δm
        assert set(res) == set(declared) | {'mtl/delta_m'}, (key, sorted(res))
        for k in declared:
            assert math.isfinite(res[k]), (key, k, res[k])
        baselines = [m.baselines for m in evaluator.metrics if getattr(m, 'baselines', None)]
        assert baselines, f'{key}: no Δm baselines (save_best=mtl/delta_m needs them)'
        assert set(baselines[0]) <= set(res)
        assert math.isfinite(res['mtl/delta_m'])


@pytest.mark.parametrize('name', STL_CONFIGS)
def test_single_task_config_is_one_task(name):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'single_task', name))
    task = name.split('_')[0][len('stl-'):]
    assert list(cfg.model.decode_head.tasks) == [task]
    assert list(cfg.model.decode_head.loss_decode) == [task]
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert list(cfg[loader].dataset.tasks) == [task]
    assert cfg.train_dataloader.dataset.split_file
    assert cfg.train_dataloader.dataset.skip_unlabeled
    for key in ('val_evaluator', 'test_evaluator'):
        assert [k.split('/')[0] for k in cfg[key].baselines] == [task]


def test_single_task_baselines_are_the_paper_numbers():
    """Each single-task config's baseline is the one-label single-task number
    of the multi-task configs' Δm (paper Table 3)."""
    for dataset, mtl in (('nyud-288x384', 'diffusionmtl_r18_1xb4-40k_nyud-288x384.py'),
                         ('pascal-context-mt-512x512',
                          'diffusionmtl_r18_1xb6-80k_pascal-context-mt-512x512.py')):
        ref = Config.fromfile(osp.join(ROOT, 'configs', 'diffusionmtl',
                                       mtl)).val_evaluator.baselines
        got = {}
        for name in STL_CONFIGS:
            if name.endswith(f'_{dataset}.py'):
                got.update(Config.fromfile(osp.join(ROOT, 'configs', 'single_task',
                                                       name)).val_evaluator.baselines)
        assert got == dict(ref)
    assert np.isclose(dict(ref)['edge/odsF'], 64.40)
