"""Distributed training without CUDA (``gloo`` backend, CPU DDP).

mmengine's launchers and model wrapping assume CUDA: they default to the
``nccl`` backend, call ``torch.cuda.set_device`` before initialising the
process group and pass the local rank to DDP as a CUDA device id. The
functions here do the CPU equivalents; :class:`~mmdmtl.engine.MTLRunner`
uses them when CUDA is unavailable.
"""
import copy
import os
import subprocess
from typing import Mapping, Optional

import torch
from mmengine.logging import print_log
from mmengine.model import MMDistributedDataParallel, convert_sync_batchnorm


def cpu_env_cfg(env_cfg: Optional[Mapping], launcher: str) -> dict:
    """``env_cfg`` for a distributed run on a machine without CUDA.

    The ``nccl`` backend (mmengine's default) is replaced by ``gloo``, and
    with ``launcher='pytorch'`` (torchrun) or ``'slurm'`` (srun) the process
    group is initialised here, since mmengine would first call
    ``torch.cuda.set_device``, which fails without CUDA.

    Args:
        env_cfg: The config's ``env_cfg`` (not modified).
        launcher: The runner's launcher (``'pytorch'``, ``'slurm'``,
            ``'mpi'``...; not ``'none'``).

    Returns:
        A copy of ``env_cfg`` with the CPU backend in ``dist_cfg``.
    """
    env_cfg = copy.deepcopy(dict(env_cfg or {}))
    dist_cfg = dict(env_cfg.get('dist_cfg') or {})
    if dist_cfg.get('backend', 'nccl') == 'nccl':
        print_log('CUDA is not available: using the gloo backend for '
                  'distributed training instead of nccl.',
                  logger='current', level=30)
        dist_cfg['backend'] = 'gloo'
    env_cfg['dist_cfg'] = dist_cfg
    if not torch.distributed.is_initialized():
        init_cfg = dict(dist_cfg)
        port = init_cfg.pop('port', None)
        if launcher == 'slurm':
            slurm_env_to_torch_env(port)
        if launcher in ('pytorch', 'slurm'):
            torch.distributed.init_process_group(**init_cfg)
    return env_cfg


def slurm_env_to_torch_env(port: Optional[int] = None) -> None:
    """Set ``RANK`` / ``WORLD_SIZE`` / ``LOCAL_RANK`` / ``MASTER_ADDR`` /
    ``MASTER_PORT`` from Slurm's variables, like mmengine's slurm launcher
    but without selecting a CUDA device (for CPU-only Slurm jobs).
    ``MASTER_ADDR`` / ``MASTER_PORT`` already in the environment are kept
    (``port`` overrides ``MASTER_PORT``); otherwise the first host of
    ``SLURM_NODELIST`` and port 29500 are used.

    Raises:
        RuntimeError: the Slurm variables are missing (not started with
            ``srun``) or the master host cannot be resolved.
    """
    missing = [k for k in ('SLURM_PROCID', 'SLURM_NTASKS') if k not in os.environ]
    if missing:
        raise RuntimeError(f'launcher=slurm but {missing} are not set: start the job '
                           'with srun (see tools/slurm_train.sh)')
    os.environ['RANK'] = os.environ['SLURM_PROCID']
    os.environ['WORLD_SIZE'] = os.environ['SLURM_NTASKS']
    os.environ['LOCAL_RANK'] = os.environ.get('SLURM_LOCALID', '0')
    if port is not None:
        os.environ['MASTER_PORT'] = str(port)
    os.environ.setdefault('MASTER_PORT', '29500')
    if 'MASTER_ADDR' not in os.environ:
        nodes = os.environ.get('SLURM_NODELIST', '')
        addr = subprocess.getoutput(f'scontrol show hostname {nodes} | head -n1').strip()
        if not addr or ' ' in addr:
            raise RuntimeError(f'launcher=slurm: cannot resolve the master host of '
                               f'SLURM_NODELIST={nodes!r} ({addr!r}); set MASTER_ADDR')
        os.environ['MASTER_ADDR'] = addr


def wrap_cpu_ddp(model: torch.nn.Module, sync_bn: Optional[str] = None,
                 find_unused_parameters: bool = False) -> MMDistributedDataParallel:
    """Wrap ``model`` in DDP for a distributed CPU run (no ``device_ids``,
    which DDP rejects for CPU modules).

    Args:
        model: The unwrapped model.
        sync_bn: The config's ``sync_bn`` (``'torch'`` / ``'mmcv'``) or None.
        find_unused_parameters: Passed to DDP.

    Raises:
        RuntimeError: the model has SyncBatchNorm layers, which need CUDA;
            the message names one and the config change that avoids them.
    """
    if sync_bn is not None:
        model = convert_sync_batchnorm(model, sync_bn)
    syncbn = [n for n, m in model.named_modules()
              if isinstance(m, torch.nn.SyncBatchNorm)]
    if syncbn:
        raise RuntimeError(
            f'SyncBN ({len(syncbn)} layers, e.g. {syncbn[0]!r}) needs CUDA '
            'devices; for distributed training on CPU set '
            "norm_cfg=dict(type='BN', requires_grad=True) in the model.")
    return MMDistributedDataParallel(
        module=model.to('cpu'),
        broadcast_buffers=False,
        find_unused_parameters=find_unused_parameters)
