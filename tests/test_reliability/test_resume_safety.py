"""Resume and work_dir safety (issue 17, items 2 and 4-6): no checkpoint is
ever fully unpickled, two training runs cannot share a work_dir, resuming a
copied work_dir leaves the original alone, and an auto-resume skips broken
checkpoints.

The runs use a toy regressor (a few iterations, a fraction of a second
each) so that only the runner's checkpoint handling is exercised."""
import hashlib
import os
import os.path as osp
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from reliability_utils import ROOT, tool_env
from torch.utils.data import Dataset

from mmdmtl.engine.runner import (
    CheckpointReadError,
    MTLRunner,
    UnsafeCheckpointError,
    message_hub_from_safe,
    safe_torch_load,
)
from mmdmtl.registry import DATASETS, METRICS, MODELS


@MODELS.register_module(force=True)
class _ResumeSafetyToy(BaseModel):
    """Tiny regressor; ``predict`` returns the per-sample squared error."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 1)

    def forward(self, inputs, targets=None, mode='tensor'):
        x = torch.stack(inputs) if isinstance(inputs, list) else inputs
        out = self.fc(x)
        if mode == 'tensor':
            return out
        y = torch.stack(targets) if isinstance(targets, list) else targets
        if mode == 'loss':
            return dict(loss=((out - y)**2).mean())
        return list(((out - y)**2).flatten())


@DATASETS.register_module(force=True)
class _ResumeSafetySet(Dataset):

    def __init__(self, n: int = 8) -> None:
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(n, 4, generator=g)
        self.y = self.x.sum(1, keepdim=True)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i):
        return dict(inputs=self.x[i], targets=self.y[i])


@METRICS.register_module(force=True)
class _EverBetterMetric(BaseMetric):
    """``score`` grows at every evaluation, so every validation saves a new
    best checkpoint and deletes the previous one."""
    calls = 0

    def process(self, data_batch, data_samples) -> None:
        self.results.append(len(data_samples))

    def compute_metrics(self, results) -> dict:
        type(self).calls += 1
        return dict(score=float(type(self).calls))


def _cfg(work_dir, max_iters, resume=False, load_from=None, val=False, **hook) -> Config:
    data = dict(batch_size=4, num_workers=0, collate_fn=dict(type='default_collate'),
                dataset=dict(type='_ResumeSafetySet'))
    cfg = dict(
        default_scope='mmseg',
        model=dict(type='_ResumeSafetyToy'),
        work_dir=str(work_dir),
        train_dataloader=dict(data, sampler=dict(type='DefaultSampler', shuffle=True)),
        train_cfg=dict(by_epoch=False, max_iters=max_iters, val_interval=1),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=1, by_epoch=False, **hook),
            logger=dict(type='LoggerHook', interval=1)),
        randomness=dict(seed=0),
        log_level='WARNING',
        resume=resume,
        load_from=None if load_from is None else str(load_from),
        experiment_name='resume_safety_' + uuid.uuid4().hex[:8])
    if val:
        cfg.update(val_dataloader=dict(data, sampler=dict(type='DefaultSampler', shuffle=False)),
                   val_cfg=dict(), val_evaluator=dict(type='_EverBetterMetric'))
    return Config(cfg)


def _train(work_dir, max_iters, **kw) -> MTLRunner:
    runner = MTLRunner.from_cfg(_cfg(work_dir, max_iters, **kw))
    runner.train()
    return runner


def _log(runner) -> str:
    with open(osp.join(runner.log_dir, f'{runner.timestamp}.log')) as f:
        return f.read()


def _snapshot(folder) -> dict:
    """{relative path: sha256} of every file under ``folder``."""
    out = {}
    for dirpath, _, files in os.walk(folder):
        for name in files:
            path = osp.join(dirpath, name)
            with open(path, 'rb') as f:
                out[osp.relpath(path, folder)] = hashlib.sha256(f.read()).hexdigest()
    return out


def _point_last_checkpoint(work, name) -> None:
    with open(osp.join(work, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(str(work), name))


# ---------------------------------------------------------------- item 2


class _Payload:
    """Unpickling this object creates the file ``marker``."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (exec, (f'open({self.marker!r}, "w").write("code ran")', ))


@pytest.fixture
def trained(tmp_path):
    """A work_dir with iter_1.pth and iter_2.pth (safe format)."""
    work = tmp_path / 'work'
    _train(work, 2)
    return work


@pytest.mark.parametrize('how', ['auto', 'explicit'])
@pytest.mark.parametrize('writer', ['torch.save', 'pickle.dump'])
def test_planted_checkpoint_in_work_dir_is_not_unpickled(trained, tmp_path, how, writer):
    marker = str(tmp_path / 'marker')
    good = safe_torch_load(str(trained / 'iter_2.pth'))
    planted = dict(good, payload=_Payload(marker))
    path = str(trained / 'iter_3.pth')
    if writer == 'torch.save':
        torch.save(planted, path)
    else:
        import pickle
        with open(path, 'wb') as f:
            pickle.dump(planted, f)
    _point_last_checkpoint(trained, 'iter_3.pth')

    runner = MTLRunner.from_cfg(_cfg(trained, 4, resume=True,
                                     load_from=path if how == 'explicit' else None))
    try:
        runner.train()
        error = None
    except Exception as e:  # noqa: BLE001 - checked below, after the marker
        error = e
    assert not osp.exists(marker), 'the planted payload was executed'
    assert isinstance(error, UnsafeCheckpointError), error
    msg = str(error)
    assert path in msg
    assert f'python tools/convert_checkpoint.py {path} ' in msg and '--trust' in msg
    assert not osp.exists(trained / 'iter_4.pth')  # did not train on


def test_plain_mmengine_checkpoint_is_refused_then_converted(trained):
    """An old-style checkpoint of this very work_dir is not unpickled either;
    the printed command converts it and the converted file resumes."""
    ck = safe_torch_load(str(trained / 'iter_2.pth'))
    ck['message_hub'] = message_hub_from_safe(ck['message_hub'])  # HistoryBuffers
    plain = str(trained / 'plain_iter_2.pth')
    torch.save(ck, plain)
    with pytest.raises(UnsafeCheckpointError) as err:
        _train(trained, 3, resume=True, load_from=plain)
    cmd = re.search(r'`(python tools/convert_checkpoint\.py [^`]+)`', str(err.value)).group(1)
    args = shlex.split(cmd)
    subprocess.run([sys.executable] + args[1:], cwd=ROOT, env=tool_env(), check=True,
                   capture_output=True, timeout=120)
    runner = _train(trained, 3, resume=True, load_from=args[3])
    assert runner.iter == 3 and runner.resumed_from == args[3]


# ---------------------------------------------------------------- item 4

_HOLD_LOCK = """
import sys, time
from mmdmtl.engine.work_dir_lock import WorkDirLock
WorkDirLock(sys.argv[1]).acquire()
print('locked', flush=True)
time.sleep(120)
"""


def test_second_training_run_in_work_dir_is_refused(tmp_path):
    """Another process (here: one that only holds the lock, as a training
    run does) owns the work_dir: training stops with an error naming it;
    once that process is killed, the lock is free again."""
    import socket
    work = str(tmp_path / 'work')
    os.makedirs(work)
    holder = subprocess.Popen([sys.executable, '-c', _HOLD_LOCK, work], env=tool_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = holder.stdout.readline()
        assert line.strip() == 'locked', holder.stderr.read()
        runner = MTLRunner.from_cfg(_cfg(work, 2))
        with pytest.raises(RuntimeError, match='in use by another training run') as err:
            runner.train()
        msg = str(err.value)
        assert f'pid {holder.pid} ' in msg and socket.gethostname() in msg
        assert osp.join(work, '.lock') in msg
        assert not osp.exists(osp.join(work, 'iter_1.pth'))
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=60)
    runner = _train(work, 2)  # the lock died with its process
    assert runner.iter == 2
    _train(work, 3, resume=True)  # and the finished run released it


def test_runs_started_in_the_same_second_get_separate_log_folders(tmp_path, monkeypatch):
    now = time.time()
    monkeypatch.setattr(time, 'time', lambda: now)
    first = MTLRunner.from_cfg(_cfg(tmp_path / 'work', 1))
    second = MTLRunner.from_cfg(_cfg(tmp_path / 'work', 1))
    assert first.log_dir != second.log_dir
    assert osp.isdir(first.log_dir) and osp.isdir(second.log_dir)
    monkeypatch.undo()
    second.logger.warning('second run writes here')
    assert 'second run writes here' not in _log(first)


def test_temporary_checkpoint_name_is_unique_per_process(tmp_path, monkeypatch):
    import mmengine.runner.runner as runner_mod
    written = []
    orig = runner_mod.save_checkpoint

    def spy(checkpoint, filename, *args, **kwargs):
        written.append(str(filename))
        return orig(checkpoint, filename, *args, **kwargs)

    monkeypatch.setattr(runner_mod, 'save_checkpoint', spy)
    _train(tmp_path / 'work', 1)
    assert written == [osp.join(str(tmp_path / 'work'), f'iter_1.pth.{os.getpid()}.part')]
    assert not [n for n in os.listdir(tmp_path / 'work') if n.endswith('.part')]


# ---------------------------------------------------------------- item 5


def test_resuming_a_copied_work_dir_leaves_the_original_untouched(tmp_path):
    original, copy = tmp_path / 'original', tmp_path / 'copy'
    _train(original, 3, val=True, max_keep_ckpts=2, save_best='score', rule='greater')
    names = os.listdir(original)
    assert 'iter_3.pth' in names and 'iter_1.pth' not in names
    assert [n for n in names if n.startswith('best_score')] == ['best_score_iter_3.pth']
    shutil.copytree(original, copy)
    before = _snapshot(original)

    runner = _train(copy, 5, resume=True, val=True, max_keep_ckpts=2, save_best='score',
                    rule='greater')
    assert _snapshot(original) == before  # same files, same bytes
    assert runner.iter == 5
    assert runner.resumed_from == osp.join(str(copy), 'iter_3.pth')
    assert 'iter_3.pth' in _log(runner)  # the warning about the recorded path
    # the copy's own old checkpoints were rotated / replaced as usual
    left = os.listdir(copy)
    assert 'iter_3.pth' not in left and 'best_score_iter_3.pth' not in left
    assert {'iter_4.pth', 'iter_5.pth', 'best_score_iter_5.pth'} <= set(left)


# ---------------------------------------------------------------- item 6


def _break(path, how) -> None:
    if how == 'deleted':
        os.remove(path)
        return
    if how == 'tensor-data-changed':  # still loads; only the recorded SHA-256 tells
        ckpt = safe_torch_load(path)
        next(iter(ckpt['state_dict'].values())).add_(1.0)
        torch.save(ckpt, path)
        return
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(b'' if how == 'zero-byte' else data[:len(data) // 2])


@pytest.mark.parametrize('how', ['truncated', 'zero-byte', 'deleted', 'tensor-data-changed'])
def test_auto_resume_skips_a_broken_newest_checkpoint(tmp_path, how):
    work = tmp_path / 'work'
    _train(work, 3)
    newest = str(work / 'iter_3.pth')
    _break(newest, how)
    runner = _train(work, 4, resume=True)
    assert runner.resumed_from == str(work / 'iter_2.pth')
    assert runner.iter == 4
    assert re.search(rf'Skipped checkpoint {re.escape(newest)} for resuming', _log(runner))


def test_auto_resume_with_no_readable_checkpoint_names_them(tmp_path):
    work = tmp_path / 'work'
    _train(work, 2)
    _break(str(work / 'iter_2.pth'), 'zero-byte')
    _break(str(work / 'iter_1.pth'), 'truncated')
    with pytest.raises(CheckpointReadError) as err:
        _train(work, 3, resume=True)
    assert 'iter_2.pth' in str(err.value) and 'iter_1.pth' in str(err.value)


@pytest.mark.parametrize('how', ['truncated', 'zero-byte'])
def test_explicit_broken_checkpoint_is_a_clear_error(trained, how):
    path = str(trained / 'iter_2.pth')
    _break(path, how)
    with pytest.raises(CheckpointReadError, match=re.escape(path)):
        safe_torch_load(path)
    with pytest.raises(CheckpointReadError, match=re.escape(path)):  # --resume FILE
        _train(trained, 3, resume=True, load_from=path)
    runner = MTLRunner.from_cfg(_cfg(trained, 3))
    with pytest.raises(CheckpointReadError, match=re.escape(path)):  # load_from / test.py
        runner.load_checkpoint(path)
