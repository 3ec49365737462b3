"""Distributed training and evaluation on CPU (2 processes, gloo, torchrun)."""
import json
import os.path as osp

import pytest
import torch
from reliability_utils import TINY_CFG, WORKER, build_runner, data_opts, run_python, tiny_cfg


@pytest.fixture(scope='module')
def dist_run(synthetic_root, tmp_path_factory):
    """3 iterations on 2 processes; each rank dumps its state dict."""
    tmp = tmp_path_factory.mktemp('dist')
    work, out = str(tmp / 'work'), str(tmp / 'out')
    run_python([WORKER, TINY_CFG, '--mode', 'train', '--work-dir', work, '--out', out,
                '--launcher', 'pytorch', '--cfg-options', 'train_cfg.max_iters=3',
                'default_hooks.checkpoint.interval=3'] + data_opts(synthetic_root),
               cwd=str(tmp), nproc=2)
    return dict(tmp=tmp, work=work, out=out, root=synthetic_root)


def test_ranks_hold_identical_weights(dist_run):
    r0 = torch.load(osp.join(dist_run['out'], 'rank0.pth'))
    r1 = torch.load(osp.join(dist_run['out'], 'rank1.pth'))
    assert r0.keys() == r1.keys()
    runner_keys = {k for k in r0 if not k.endswith(('running_mean', 'running_var',
                                                    'num_batches_tracked'))}
    assert len(runner_keys) > 100
    differ = [k for k in sorted(runner_keys) if not torch.equal(r0[k], r1[k])]
    assert differ == []
    # the weights moved away from the (shared) initialisation and were
    # saved by rank 0 as they are
    ckpt = torch.load(osp.join(dist_run['work'], 'iter_3.pth'), weights_only=True)
    assert ckpt['meta']['iter'] == 3
    for k in runner_keys:
        assert torch.equal(ckpt['state_dict'][k], r0[k]), k


def test_two_process_evaluation_equals_one_process(dist_run):
    ckpt = osp.join(dist_run['work'], 'iter_3.pth')
    metrics = {}
    for nproc in (None, 2):
        out = str(dist_run['tmp'] / f'eval{nproc}')
        launcher = ['--launcher', 'pytorch'] if nproc else []
        run_python([WORKER, TINY_CFG, '--mode', 'test', '--work-dir', out + '_work',
                    '--out', out, '--checkpoint', ckpt] + launcher + ['--cfg-options']
                   + data_opts(dist_run['root']), cwd=str(dist_run['tmp']), nproc=nproc)
        with open(osp.join(out, 'metrics.json')) as f:
            metrics[nproc] = json.load(f)
    one, two = metrics[None], metrics[2]
    assert set(one) == set(two) and 'semseg/mIoU' in one and 'depth/rmse' in one
    # 5 samples on 2 ranks: a dropped or duplicated sample would change the
    # metrics by far more than float round-off (thread counts differ)
    for key in one:
        assert two[key] == pytest.approx(one[key], rel=1e-6, abs=1e-6), key


def test_syncbn_config_trains_in_one_process(synthetic_root, tmp_path):
    """norm_cfg=SyncBN (the multi-GPU setting) builds and trains without
    DDP: mmengine reverts SyncBN to BN in a non-distributed run."""
    syncbn = dict(type='SyncBN', requires_grad=True)
    cfg = tiny_cfg(synthetic_root, str(tmp_path), **{
        'model.backbone.norm_cfg': syncbn, 'model.decode_head.norm_cfg': syncbn,
        'train_cfg.max_iters': 1, 'default_hooks.checkpoint.interval': 1})
    runner = build_runner(cfg)
    assert not any(isinstance(m, torch.nn.SyncBatchNorm) for m in runner.model.modules())
    runner.train()
    assert osp.isfile(osp.join(str(tmp_path), 'iter_1.pth'))


def test_syncbn_on_cpu_ddp_fails_with_a_clear_message(synthetic_root, tmp_path):
    proc = run_python([WORKER, TINY_CFG, '--mode', 'train', '--work-dir', str(tmp_path / 'w'),
                       '--out', str(tmp_path / 'o'), '--launcher', 'pytorch',
                       '--cfg-options', 'model.backbone.norm_cfg.type=SyncBN',
                       'train_cfg.max_iters=1'] + data_opts(synthetic_root),
                      cwd=str(tmp_path), nproc=2, check=False)
    assert proc.returncode != 0
    assert 'SyncBN' in proc.stderr and 'needs CUDA devices' in proc.stderr


def test_slurm_launcher_on_cpu(synthetic_root, tmp_path):
    """--launcher slurm with the variables srun sets (2 tasks started by
    hand, as srun would): both ranks train and hold identical weights."""
    import os
    import subprocess
    import sys

    from reliability_utils import free_port, tool_env
    port = str(free_port())
    procs = []
    for rank in (0, 1):
        env = dict(tool_env(), SLURM_PROCID=str(rank), SLURM_NTASKS='2', SLURM_LOCALID=str(rank),
                   SLURM_NODELIST='localhost', MASTER_ADDR='127.0.0.1', MASTER_PORT=port)
        for k in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK'):
            env.pop(k, None)
        procs.append(subprocess.Popen(
            [sys.executable, WORKER, TINY_CFG, '--mode', 'train', '--work-dir',
             str(tmp_path / 'w'), '--out', str(tmp_path / 'o'), '--launcher', 'slurm',
             '--cfg-options', 'train_cfg.max_iters=2', 'default_hooks.checkpoint.interval=2']
            + data_opts(synthetic_root), cwd=str(tmp_path), env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs[0][-3000:] + outs[1][-3000:]
    r0 = torch.load(os.path.join(tmp_path, 'o', 'rank0.pth'))
    r1 = torch.load(os.path.join(tmp_path, 'o', 'rank1.pth'))
    assert all(torch.equal(r0[k], r1[k]) for k in r0 if 'running_' not in k)
    assert osp.isfile(osp.join(str(tmp_path), 'w', 'iter_2.pth'))


def test_slurm_scripts_pass_the_launcher_and_arguments(tmp_path):
    """tools/slurm_{train,test}.sh call srun with one task per GPU and the
    tool with --launcher slurm (a fake srun on PATH records the call)."""
    import os
    import subprocess
    fake = tmp_path / 'bin'
    fake.mkdir()
    (fake / 'srun').write_text('#!/usr/bin/env bash\necho "SRUN $*"\n')
    (fake / 'srun').chmod(0o755)
    env = dict(os.environ, PATH=f'{fake}{os.pathsep}{os.environ["PATH"]}', GPUS='4',
               GPUS_PER_NODE='2')
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    out = subprocess.run(['bash', osp.join(root, 'tools', 'slurm_train.sh'), 'part', 'job',
                          'cfg.py', 'wd', '--amp'], env=env, capture_output=True,
                         text=True, check=True).stdout
    assert '-p part' in out and '--ntasks=4' in out and '--gres=gpu:2' in out
    assert out.rstrip().endswith('train.py cfg.py --launcher slurm --work-dir wd --amp')
    out = subprocess.run(['bash', osp.join(root, 'tools', 'slurm_test.sh'), 'part', 'job',
                          'cfg.py', 'ckpt.pth'], env=env, capture_output=True, text=True,
                         check=True).stdout
    assert out.rstrip().endswith('test.py cfg.py ckpt.pth --launcher slurm')
    bad = subprocess.run(['bash', osp.join(root, 'tools', 'slurm_train.sh'), 'part'],
                         env=env, capture_output=True, text=True)
    assert bad.returncode == 2 and 'PARTITION JOB_NAME CONFIG' in bad.stdout
