"""MTLConsistencyCheckHook: the config consistency check as a hook that the
MTLRunner adds by default."""
import os.path as osp
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.runner import BaseLoop
from torch.utils.data import Dataset

from mmdmtl.engine import MTLRunner
from mmdmtl.engine.consistency import TaskConfigMismatchError
from mmdmtl.engine.hooks import MTLConsistencyCheckHook
from mmdmtl.registry import DATASETS, HOOKS, METRICS, MODELS


class _Loop(BaseLoop):
    """A built loop over a dataset with ``metainfo`` (not run)."""

    def __init__(self, metainfo: dict) -> None:
        self.dataloader = SimpleNamespace(dataset=SimpleNamespace(metainfo=metainfo))

    def run(self) -> None:
        pass


def _fake_runner(head_tasks: dict, **loops) -> SimpleNamespace:
    model = SimpleNamespace(decode_head=SimpleNamespace(tasks=head_tasks))
    return SimpleNamespace(model=model, _train_loop=loops.get('train'),
                           _val_loop=loops.get('val'), _test_loop=loops.get('test'))


SEMSEG10 = dict(tasks=['semseg'], classes=tuple('abcdefghij'))


def test_hook_checks_each_built_loop_once():
    good, bad = _Loop(SEMSEG10), _Loop(dict(tasks=['semseg', 'depth']))
    runner = _fake_runner(dict(semseg=10), train=good, val={'type': 'ValLoop'})
    hook = MTLConsistencyCheckHook()
    hook.before_run(runner)  # a loop still given as a dict is not built: skipped
    hook.before_train(runner)
    runner._val_loop = bad  # built later, e.g. run on its own
    hook.before_test(runner)  # not the test loop's business
    with pytest.raises(TaskConfigMismatchError,
                       match=r"val_dataloader\.dataset\.tasks=\['semseg', 'depth'\]: "
                       r"\['depth'\] are loaded by the dataset but not predicted"):
        hook.before_val(runner)
    runner._test_loop = _Loop(dict(SEMSEG10, classes=tuple(range(13))))
    with pytest.raises(TaskConfigMismatchError,
                       match=r'test_dataloader.*semseg: head has 10 classes, dataset has 13'):
        hook.before_test(runner)
    # a model without a multi-task head is not checked
    MTLConsistencyCheckHook().before_run(_fake_runner(None, train=bad))


def test_hook_is_registered_and_runs_before_other_hooks():
    assert HOOKS.get('MTLConsistencyCheckHook') is MTLConsistencyCheckHook
    assert MTLConsistencyCheckHook.priority == 'VERY_HIGH'


@MODELS.register_module(force=True)
class _HookCheckToy(BaseModel):
    """Toy model with a one-task 'head' predicting ``semseg`` classes."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.decode_head = nn.Linear(1, num_classes)
        self.decode_head.tasks = dict(semseg=num_classes)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        x = torch.stack(inputs) if isinstance(inputs, list) else inputs
        out = self.decode_head(x)
        if mode == 'loss':
            return dict(loss=out.mean())
        return [out]


@DATASETS.register_module(force=True)
class _HookCheckSet(Dataset):
    metainfo = dict(SEMSEG10)

    def __len__(self) -> int:
        return 4

    def __getitem__(self, i):
        return dict(inputs=torch.ones(1))


@METRICS.register_module(force=True)
class _HookCheckMetric(BaseMetric):

    def process(self, data_batch, data_samples) -> None:
        self.results.append(0.0)

    def compute_metrics(self, results) -> dict:
        return dict(score=0.0)


def _cfg(work_dir: str, num_classes: int, **extra) -> Config:
    loader = dict(batch_size=2, num_workers=0, collate_fn=dict(type='default_collate'),
                  sampler=dict(type='DefaultSampler', shuffle=False),
                  dataset=dict(type='_HookCheckSet'))
    return Config(dict(
        default_scope='mmseg', model=dict(type='_HookCheckToy', num_classes=num_classes),
        work_dir=work_dir, train_dataloader=loader, val_dataloader=loader,
        test_dataloader=loader, train_cfg=dict(by_epoch=False, max_iters=1, val_interval=1),
        val_cfg=dict(), test_cfg=dict(), val_evaluator=dict(type='_HookCheckMetric'),
        test_evaluator=dict(type='_HookCheckMetric'),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1, by_epoch=False)),
        log_level='WARNING', experiment_name=osp.basename(work_dir), **extra))


def _consistency_hooks(runner):
    return [h for h in runner.hooks if isinstance(h, MTLConsistencyCheckHook)]


def test_runner_adds_the_hook_once(tmp_path):
    runner = MTLRunner.from_cfg(_cfg(str(tmp_path / 'a'), 10))
    assert len(_consistency_hooks(runner)) == 1
    runner = MTLRunner.from_cfg(_cfg(str(tmp_path / 'b'), 10, custom_hooks=[
        dict(type='MTLConsistencyCheckHook')]))
    assert len(_consistency_hooks(runner)) == 1
    runner.train()  # a consistent config trains, validates ...
    runner.test()  # ... and tests


def test_bad_config_is_refused_before_the_checkpoint_is_read(tmp_path):
    """The check runs before load_from / --resume are read, as it did when
    the runner called it: the config error, not a missing-file error."""
    cfg = _cfg(str(tmp_path / 'a'), 13, load_from=str(tmp_path / 'missing.pth'))
    with pytest.raises(TaskConfigMismatchError, match='semseg: head has 13 classes, '
                       'dataset has 10'):
        MTLRunner.from_cfg(cfg).test()
    cfg = _cfg(str(tmp_path / 'b'), 13, load_from=str(tmp_path / 'missing.pth'),
               resume=True)
    with pytest.raises(TaskConfigMismatchError, match=r'train_dataloader.*head has 13'):
        MTLRunner.from_cfg(cfg).train()
