"""Resume on torch >= 2.6 with safe loading (MTLRunner)."""
import copy
import os.path as osp
import pickle

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.logging import HistoryBuffer
from mmengine.model import BaseModel
from torch.utils.data import Dataset

from mmdmtl.engine.runner import (
    MTLRunner,
    UnsafeCheckpointError,
    message_hub_from_safe,
    safe_torch_load,
    to_safe_state,
)
from mmdmtl.registry import DATASETS, MODELS


@MODELS.register_module(force=True)
class _ToyRegressor(BaseModel):

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 1)

    def forward(self, inputs, targets=None, mode='tensor'):
        x = torch.stack(inputs) if isinstance(inputs, list) else inputs
        out = self.fc2(torch.relu(self.fc1(x)))
        if mode == 'loss':
            y = torch.stack(targets) if isinstance(targets, list) else targets
            return dict(loss=((out - y)**2).mean())
        return out


@DATASETS.register_module(force=True)
class _ToyRegressionSet(Dataset):

    def __init__(self, n: int = 16) -> None:
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(n, 4, generator=g)
        self.y = self.x.sum(1, keepdim=True)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i):
        return dict(inputs=self.x[i], targets=self.y[i])


def _cfg(work_dir: str, max_iters: int) -> Config:
    return Config(
        dict(
            default_scope='mmseg',
            model=dict(type='_ToyRegressor'),
            work_dir=work_dir,
            train_dataloader=dict(
                batch_size=4,
                num_workers=0,
                sampler=dict(type='DefaultSampler', shuffle=True),
                collate_fn=dict(type='default_collate'),
                dataset=dict(type='_ToyRegressionSet')),
            train_cfg=dict(by_epoch=False, max_iters=max_iters),
            optim_wrapper=dict(optimizer=dict(type='Adam', lr=0.01)),
            param_scheduler=[
                dict(type='LinearLR', start_factor=0.5, begin=0, end=4,
                     by_epoch=False)
            ],
            default_hooks=dict(
                checkpoint=dict(type='CheckpointHook', interval=1,
                                by_epoch=False),
                logger=dict(type='LoggerHook', interval=1)),
            randomness=dict(seed=42, deterministic=True),
            log_level='WARNING',
            experiment_name=osp.basename(work_dir) + '_' + str(max_iters)))


def _weights(runner) -> dict:
    return {k: v.detach().clone() for k, v in runner.model.state_dict().items()}


def test_resume_matches_uninterrupted_run(tmp_path):
    full = MTLRunner.from_cfg(_cfg(str(tmp_path / 'full'), 4))
    full.train()
    expected = _weights(full)

    part = MTLRunner.from_cfg(_cfg(str(tmp_path / 'part'), 2))
    part.train()
    ckpt = str(tmp_path / 'part' / 'iter_2.pth')
    # our checkpoints load with the safe unpickler, message hub included
    raw = torch.load(ckpt, weights_only=True)
    assert raw['meta']['iter'] == 2

    cfg = _cfg(str(tmp_path / 'part'), 4)
    cfg.resume = True
    cfg.load_from = ckpt
    cfg.experiment_name = 'resumed'
    resumed = MTLRunner.from_cfg(cfg)
    resumed.train()
    assert resumed.iter == 4
    got = _weights(resumed)
    for k in expected:
        torch.testing.assert_close(got[k], expected[k], rtol=0, atol=0)
    # the message hub's history survived the round trip
    hist = resumed.message_hub.get_scalar('train/loss')
    assert isinstance(hist, HistoryBuffer) and len(hist.data[0]) == 4


def test_plain_torch_load_of_mmengine_checkpoint_fails_without_fix(tmp_path):
    """Documents the bug MTLRunner works around."""
    from mmengine.logging import MessageHub
    hub = MessageHub.get_instance('plain_ckpt_probe')
    hub.update_scalar('train/loss', 1.0)
    path = str(tmp_path / 'plain.pth')
    torch.save({'state_dict': {}, 'message_hub': hub.state_dict()}, path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)
    with pytest.raises(RuntimeError, match='plain.pth'):
        safe_torch_load(path)


class _Evil:

    def __reduce__(self):
        return (exec, ("raise SystemExit('arbitrary code ran')", ))


def test_load_from_refuses_arbitrary_objects(tmp_path):
    path = str(tmp_path / 'evil.pth')
    torch.save({'state_dict': {}, 'payload': _Evil()}, path)
    runner = MTLRunner.from_cfg(_cfg(str(tmp_path / 'w'), 1))
    with pytest.raises(RuntimeError, match='safe'):
        runner.load_checkpoint(path)


def test_resume_never_unpickles_plain_checkpoint_inside_or_outside_work_dir(tmp_path):
    """Location is no proof of origin: a plain-mmengine checkpoint is refused
    (with the conversion command) inside the work_dir as well."""
    runner = MTLRunner.from_cfg(_cfg(str(tmp_path / 'w'), 2))
    runner.train()
    ck = torch.load(str(tmp_path / 'w' / 'iter_2.pth'), weights_only=True)
    ck['message_hub'] = message_hub_from_safe(ck['message_hub'])
    inside = str(tmp_path / 'w' / 'plain_iter_2.pth')
    outside = str(tmp_path / 'plain_iter_2.pth')
    torch.save(ck, inside)
    torch.save(ck, outside)

    for name, path in (('outside', outside), ('inside', inside)):
        cfg = _cfg(str(tmp_path / 'w'), 3)
        cfg.experiment_name = name
        cfg.resume, cfg.load_from = True, path
        with pytest.raises(UnsafeCheckpointError, match='convert_checkpoint.py'):
            MTLRunner.from_cfg(cfg).train()


def test_to_safe_state_round_trip():
    import numpy as np
    buf = HistoryBuffer([1.0, 2.0], [1, 1], max_length=10)
    state = {'a': np.float32(1.5), 'b': np.arange(3), 'c': (np.int64(2), 'x'),
             'hub': {'log_scalars': {'loss': buf}}}
    safe = to_safe_state(copy.deepcopy(state))
    assert safe['a'] == 1.5 and isinstance(safe['a'], float)
    assert torch.equal(safe['b'], torch.arange(3))
    back = message_hub_from_safe(safe)
    restored = back['hub']['log_scalars']['loss']
    assert isinstance(restored, HistoryBuffer)
    np.testing.assert_array_equal(restored.data[0], buf.data[0])
    assert restored.max_length == 10
