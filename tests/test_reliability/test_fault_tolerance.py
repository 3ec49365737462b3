"""A killed run resumes; resuming / loading a checkpoint that does not fit
the config fails loudly or reports the differences."""
import glob
import os
import os.path as osp
import re
import signal
import subprocess
import sys
import time

import pytest
import torch
from reliability_utils import TINY_CFG, TRAIN_TOOL, build_runner, data_opts, tiny_cfg, tool_env

from mmdmtl.engine.consistency import TaskConfigMismatchError
from mmdmtl.engine.runner import CheckpointMismatchError, safe_torch_load

MAX_ITERS = 24


def _train_cmd(root, work, *extra):
    return [sys.executable, TRAIN_TOOL, TINY_CFG, '--work-dir', work, *extra,
            '--cfg-options', f'train_cfg.max_iters={MAX_ITERS}'] + data_opts(root)


@pytest.fixture(scope='module')
def killed_and_resumed(synthetic_root, tmp_path_factory):
    """Start tools/train.py, SIGKILL it once its first checkpoint exists,
    then run it again with --resume."""
    tmp = tmp_path_factory.mktemp('fault')
    work = str(tmp / 'work')
    proc = subprocess.Popen(_train_cmd(synthetic_root, work), cwd=str(tmp), env=tool_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 240
        while not osp.isfile(osp.join(work, 'last_checkpoint')):
            assert proc.poll() is None, f'training ended early (rc {proc.returncode})'
            assert time.time() < deadline, 'no checkpoint after 240 s'
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        rc = proc.wait(timeout=60)
    killed = sorted(os.listdir(work))
    resumed = subprocess.run(_train_cmd(synthetic_root, work, '--resume'), cwd=str(tmp),
                             env=tool_env(), capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    return dict(work=work, rc=rc, killed=killed, log=resumed.stdout + resumed.stderr,
                root=synthetic_root)


def test_killed_run_resumes_and_finishes(killed_and_resumed):
    run = killed_and_resumed
    assert run['rc'] == -signal.SIGKILL
    assert f'iter_{MAX_ITERS}.pth' not in run['killed']  # it really was cut short
    assert not [f for f in run['killed'] if f.endswith('.part')]  # atomic saves
    saved = [int(f[5:-4]) for f in run['killed'] if re.fullmatch(r'iter_\d+\.pth', f)]
    assert saved and max(saved) < MAX_ITERS
    assert 'Auto resumed from the latest checkpoint' in run['log']
    resumed_at = int(re.search(r'resumed epoch: \d+, iter: (\d+)', run['log']).group(1))
    assert resumed_at in saved  # continued from a checkpoint of the killed run
    final = safe_torch_load(osp.join(run['work'], f'iter_{MAX_ITERS}.pth'))
    assert final['meta']['iter'] == MAX_ITERS
    assert f'Iter(train) [{MAX_ITERS}/{MAX_ITERS}]' in run['log']
    assert f'Iter(train) [{resumed_at + 1:>2}/{MAX_ITERS}]' in run['log']
    assert f'Iter(train) [ 1/{MAX_ITERS}]' not in run['log']  # did not start over


@pytest.fixture(scope='module')
def checkpoint(synthetic_root, tmp_path_factory):
    """A 2-iteration checkpoint of the tiny config (4 tasks)."""
    work = str(tmp_path_factory.mktemp('ckpt'))
    cfg = tiny_cfg(synthetic_root, work, **{'train_cfg.max_iters': 2})
    build_runner(cfg).train()
    return osp.join(work, 'iter_2.pth')


THREE_TASKS = {
    'model.decode_head.tasks': dict(semseg=10, depth=1, normal=3),
    'train_dataloader.dataset.tasks': ['semseg', 'depth', 'normal'],
    'val_dataloader.dataset.tasks': ['semseg', 'depth', 'normal'],
    'test_dataloader.dataset.tasks': ['semseg', 'depth', 'normal'],
}


def _three_task_cfg(root, work, **kw):
    cfg = tiny_cfg(root, work, **THREE_TASKS, **kw)
    cfg.model.decode_head.tasks = dict(semseg=10, depth=1, normal=3)  # replace, not merge
    cfg.model.decode_head.loss_decode.pop('edge')
    cfg.val_evaluator.task_metrics = cfg.val_evaluator.task_metrics[:3]
    cfg.val_evaluator.baselines.pop('edge/odsF')
    cfg.test_evaluator = cfg.val_evaluator
    return cfg


def test_resume_with_changed_task_list_fails_clearly(checkpoint, synthetic_root, tmp_path):
    cfg = _three_task_cfg(synthetic_root, str(tmp_path), resume=True, load_from=checkpoint)
    runner = build_runner(cfg)
    with pytest.raises(CheckpointMismatchError) as e:
        runner.train()
    msg = str(e.value)
    assert f'Cannot resume from {checkpoint}' in msg
    assert 'unexpected (not in the model)' in msg and 'edge' in msg
    assert 'with a different shape' in msg and 'cond_proj.weight' in msg
    assert "trained for tasks ['semseg', 'depth', 'normal', 'edge']" in msg
    assert not glob.glob(str(tmp_path / 'iter_*.pth'))  # nothing was trained


def test_resume_with_changed_head_size_fails_clearly(checkpoint, synthetic_root, tmp_path):
    cfg = tiny_cfg(synthetic_root, str(tmp_path), resume=True, load_from=checkpoint,
                   **{'model.decode_head.embed_dims': 32})
    with pytest.raises(CheckpointMismatchError,
                       match=r'(?s)Cannot resume from .*iter_2\.pth.*head size.*different '
                       r'shape: decode_head\.'):
        build_runner(cfg).train()


def test_load_from_reports_missing_and_unexpected_keys(checkpoint, synthetic_root, tmp_path):
    cfg = _three_task_cfg(synthetic_root, str(tmp_path), load_from=checkpoint,
                          **{'train_cfg.max_iters': 1, 'log_level': 'INFO'})
    runner = build_runner(cfg)
    runner.train()  # partial initialisation from another task set is allowed
    with open(glob.glob(osp.join(str(tmp_path), '*', '*.log'))[0]) as f:
        log = f.read()
    assert f'load_from={checkpoint} does not match the model exactly' in log
    assert 'unexpected (not in the model): decode_head.' in log and 'edge' in log
    assert 'with a different shape: decode_head.cond_proj.weight' in log


def test_testing_with_missing_weights_is_refused(checkpoint, synthetic_root, tmp_path):
    # the checkpoint lacks the weights of a 5th output (parts is not in the
    # synthetic dataset, so grow the head's conditioning instead: 4 tasks,
    # wider semseg would clash with the dataset -> use embed_dims)
    cfg = tiny_cfg(synthetic_root, str(tmp_path), load_from=checkpoint,
                   **{'model.decode_head.embed_dims': 32})
    with pytest.raises(CheckpointMismatchError, match=r'Cannot evaluate with checkpoint '
                       r'.*iter_2\.pth.*different shape'):
        build_runner(cfg).test()


def test_checkpoint_of_another_model_is_refused(synthetic_root, tmp_path):
    other = str(tmp_path / 'resnet_classifier.pth')
    torch.save({'state_dict': {'fc.weight': torch.zeros(10, 512),
                               'features.0.weight': torch.zeros(64, 3, 7, 7)}}, other)
    for overrides in (dict(load_from=other), dict(load_from=other, resume=True)):
        cfg = tiny_cfg(synthetic_root, str(tmp_path / str(len(overrides))),
                       **overrides, **{'train_cfg.max_iters': 1})
        with pytest.raises(CheckpointMismatchError,
                           match=r'resnet_classifier\.pth shares no weight with the '
                           r'MultiTaskEncoderDecoder.*checkpoint of another model'):
            build_runner(cfg).train()


def test_not_a_checkpoint_and_truncated_file(synthetic_root, tmp_path, checkpoint):
    junk = str(tmp_path / 'junk.pth')
    torch.save({'epoch': 3, 'note': 'no weights'}, junk)
    cfg = tiny_cfg(synthetic_root, str(tmp_path / 'a'), load_from=junk)
    with pytest.raises(CheckpointMismatchError, match=r'junk\.pth is not a model checkpoint'):
        build_runner(cfg).test()
    cut = str(tmp_path / 'cut.pth')
    with open(checkpoint, 'rb') as src, open(cut, 'wb') as dst:
        dst.write(src.read()[:1000])
    cfg = tiny_cfg(synthetic_root, str(tmp_path / 'b'), load_from=cut)
    with pytest.raises(RuntimeError, match=r'Could not load checkpoint .*cut\.pth'):
        build_runner(cfg).test()


def test_head_and_dataset_disagreeing_is_refused_before_training(synthetic_root, tmp_path):
    cfg = tiny_cfg(synthetic_root, str(tmp_path), **{'train_cfg.max_iters': 1})
    cfg.model.decode_head.tasks = dict(semseg=13, depth=1, normal=3, edge=1)
    with pytest.raises(TaskConfigMismatchError,
                       match=r'semseg: head has 13 classes, dataset has 10'):
        build_runner(cfg).train()
    cfg = _three_task_cfg(synthetic_root, str(tmp_path / 'b'))
    cfg.train_dataloader.dataset.tasks = ['semseg', 'depth', 'normal', 'edge']
    with pytest.raises(TaskConfigMismatchError,
                       match=r"train_dataloader\.dataset\.tasks=.*\['edge'\] are loaded by "
                       r'the dataset but not predicted by the head'):
        build_runner(cfg).train()
    cfg = _three_task_cfg(synthetic_root, str(tmp_path / 'c'))
    cfg.test_evaluator = tiny_cfg(synthetic_root, '.').test_evaluator
    with pytest.raises(TaskConfigMismatchError,
                       match=r"test_evaluator evaluates \['edge'\]"):
        build_runner(cfg).test()
