"""The modules the runner is composed of: safe checkpoint I/O registered in
mmengine, RNG state, state-dict comparison and CPU distributed set-up."""
import io
import os
import pickle
import random

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.runner import load_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader

from mmdmtl.engine.checkpoint_io import (
    UnsafeCheckpointError,
    safe_torch_load,
    to_safe_state,
)
from mmdmtl.engine.distributed_cpu import cpu_env_cfg, slurm_env_to_torch_env, wrap_cpu_ddp
from mmdmtl.engine.rng_state import RestoreRngAfterSkip, get_rng_state, set_rng_state
from mmdmtl.engine.state_dict_diff import (
    CheckpointMismatchError,
    check_checkpoint_fits,
    state_dict_differences,
)


class _Planted:
    """Stands for any object a malicious pickle could build."""


def _unsafe_file(tmp_path) -> str:
    path = str(tmp_path / 'planted.pth')
    torch.save(dict(state_dict=nn.Linear(2, 1).state_dict(), extra=_Planted()), path)
    return path


def test_safe_loader_is_mmengines_loader_for_local_paths(tmp_path):
    """Every local load through mmengine (load_from, --resume, tools/test.py,
    init_cfg=Pretrained) uses the safe loader, not only inside the runner."""
    path = _unsafe_file(tmp_path)
    with pytest.raises(UnsafeCheckpointError, match=r'planted\.pth'):
        CheckpointLoader.load_checkpoint(path)
    with pytest.raises(UnsafeCheckpointError, match=r'convert_checkpoint\.py'):
        load_checkpoint(nn.Linear(2, 1), path)  # what init_cfg=Pretrained calls
    good = str(tmp_path / 'good.pth')
    model = nn.Linear(2, 1)
    torch.save(dict(state_dict=model.state_dict()), good)
    other = nn.Linear(2, 1)
    load_checkpoint(other, good)
    torch.testing.assert_close(other.weight, model.weight)


def test_safe_format_round_trip_of_rng_state():
    state = to_safe_state(get_rng_state())
    buf = io.BytesIO()
    torch.save(state, buf)
    buf.seek(0)
    state = torch.load(buf, weights_only=True)  # the safe format loads
    expected = (random.random(), np.random.rand(), torch.rand(1))
    random.random(), np.random.rand(), torch.rand(1)  # move on
    set_rng_state(state)
    got = (random.random(), np.random.rand(), torch.rand(1))
    assert got[:2] == expected[:2] and torch.equal(got[2], expected[2])


def test_rng_state_is_restored_after_the_skipped_batches():
    state = get_rng_state()
    expected = torch.rand(1)
    it = RestoreRngAfterSkip(iter(range(5)), 2, state)
    torch.rand(3)
    assert next(it) == 0
    torch.rand(3)
    assert next(it) == 1  # the second skipped batch: state restored here
    assert torch.equal(torch.rand(1), expected)
    assert list(it) == [2, 3, 4]


def test_state_dict_differences_and_purposes(tmp_path):
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    sd = {k: v.clone() for k, v in model.state_dict().items()}
    assert check_checkpoint_fits(model, 'a.pth', dict(state_dict=sd), [], 'resume') is None
    partial = {k: v for k, v in sd.items() if not k.startswith('1.')}
    partial['0.weight'] = torch.zeros(4, 2)
    partial['extra'] = torch.zeros(1)
    missing, unexpected, shapes = state_dict_differences(model.state_dict(), partial)
    assert missing == ['1.weight', '1.bias', '1.running_mean', '1.running_var']
    assert unexpected == ['extra']
    assert shapes == ['0.weight: checkpoint (4, 2) vs model (3, 2)']
    with pytest.raises(CheckpointMismatchError, match=r'Cannot resume from b\.pth.*4 missing'):
        check_checkpoint_fits(model, 'b.pth', dict(state_dict=partial), [], 'resume')
    with pytest.raises(CheckpointMismatchError, match=r'Cannot evaluate with checkpoint b\.pth'):
        check_checkpoint_fits(model, 'b.pth', partial, [], 'test')
    warning = check_checkpoint_fits(model, 'b.pth', partial, [], 'train')
    assert warning.startswith('load_from=b.pth does not match') and '1 unexpected' in warning
    # only an unexpected key: evaluating is allowed, with a warning
    assert 'extra' in check_checkpoint_fits(model, 'c.pth', dict(sd, extra=torch.zeros(1)), [],
                                            'test')
    # revise_keys are applied first (a DDP-saved checkpoint)
    wrapped = {f'module.{k}': v for k, v in sd.items()}
    assert check_checkpoint_fits(model, 'd.pth', wrapped, [(r'^module\.', '')], 'resume') is None
    with pytest.raises(CheckpointMismatchError, match=r'e\.pth shares no weight'):
        check_checkpoint_fits(model, 'e.pth', wrapped, [], 'train')
    with pytest.raises(CheckpointMismatchError, match=r'f\.pth is not a model checkpoint'):
        check_checkpoint_fits(model, 'f.pth', dict(a=1), [], 'train')
    with pytest.raises(ValueError, match='purpose'):
        check_checkpoint_fits(model, 'a.pth', sd, [], 'finetune')


def test_checkpoint_read_through_the_registered_loader_is_the_safe_one(tmp_path):
    path = str(tmp_path / 'w.pth')
    torch.save(dict(state_dict=nn.Linear(2, 1).state_dict()), path)
    a = CheckpointLoader.load_checkpoint(path, map_location='cpu')
    b = safe_torch_load(path, map_location='cpu')
    assert a.keys() == b.keys()
    with open(path, 'wb') as f:
        pickle.dump({'x': _Planted()}, f)  # not even a torch zip file
    with pytest.raises(RuntimeError, match=r'w\.pth'):
        CheckpointLoader.load_checkpoint(path)


def test_slurm_variables_become_torch_variables(monkeypatch):
    for key in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_PORT', 'SLURM_LOCALID'):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv('SLURM_PROCID', '3')
    monkeypatch.setenv('SLURM_NTASKS', '4')
    monkeypatch.setenv('MASTER_ADDR', 'node7')
    slurm_env_to_torch_env(port=29611)
    assert (os.environ['RANK'], os.environ['WORLD_SIZE'], os.environ['LOCAL_RANK'],
            os.environ['MASTER_PORT'], os.environ['MASTER_ADDR']) == (
                '3', '4', '0', '29611', 'node7')
    monkeypatch.delenv('SLURM_NTASKS')
    with pytest.raises(RuntimeError, match=r"\['SLURM_NTASKS'\] are not set.*srun"):
        slurm_env_to_torch_env()


def test_cpu_env_cfg_falls_back_to_gloo_without_changing_the_config():
    env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='nccl'))
    # 'mpi' is initialised by mmengine later, so nothing is started here
    out = cpu_env_cfg(env_cfg, 'mpi')
    assert out['dist_cfg'] == dict(backend='gloo') and out['cudnn_benchmark'] is False
    assert env_cfg['dist_cfg'] == dict(backend='nccl')
    assert cpu_env_cfg(dict(dist_cfg=dict(backend='gloo', timeout=60)), 'mpi')['dist_cfg'] == \
        dict(backend='gloo', timeout=60)


def test_cpu_ddp_refuses_syncbn_naming_a_layer():
    model = nn.Sequential(nn.Conv2d(3, 4, 1), nn.SyncBatchNorm(4))
    with pytest.raises(RuntimeError, match=r"SyncBN \(1 layers, e\.g\. '1'\) needs CUDA"):
        wrap_cpu_ddp(model)
