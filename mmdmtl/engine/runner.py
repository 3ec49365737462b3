"""A Runner whose checkpoints load with PyTorch's safe (``weights_only``)
unpickler, so that resuming works on torch >= 2.6 without trusting files.

Background: mmengine 0.10.7 stores its :class:`~mmengine.logging.MessageHub`
state (``HistoryBuffer`` objects holding numpy arrays) in every checkpoint.
Since torch 2.6 ``torch.load`` defaults to ``weights_only=True``, which
refuses those objects, so ``--resume`` crashes. Allow-listing them is not
enough (their pickles call the builtin ``getattr``, which must never be
allowed), and turning safe loading off for every file would let a downloaded
``load_from`` checkpoint run arbitrary code.

:class:`MTLRunner` instead

* writes checkpoints whose ``message_hub`` and ``meta`` contain only plain
  Python containers, numbers, strings and tensors (see
  :func:`to_safe_state` / :func:`message_hub_from_safe`), which the safe
  unpickler accepts;
* loads every checkpoint (``load_from``, ``--resume``, ``tools/test.py``)
  with ``weights_only=True`` and never falls back to full unpickling: a
  file the safe unpickler refuses (a plain-mmengine checkpoint, or a planted
  or downloaded one, wherever it lies) raises :class:`UnsafeCheckpointError`
  with the ``tools/convert_checkpoint.py`` command for files you trust; an
  empty, truncated or corrupt file raises :class:`CheckpointReadError`
  naming it.

It protects a run's ``work_dir``:

* ``--resume`` without a file (auto-resume) tries this work_dir's
  checkpoints newest first and skips (with a warning naming it) a missing,
  empty or truncated one, or one whose bytes differ from the SHA-256 the run
  recorded when saving it (:mod:`.checkpoint_manifest`); the path in
  ``last_checkpoint`` is looked up in the work_dir being resumed, and
  checkpoint paths restored from the message hub (``best_ckpt``,
  ``last_ckpt``) are moved into it, so resuming a copied work_dir neither
  reads nor deletes files of the original (:mod:`.resume_candidates`);
* training holds an exclusive lock on ``<work_dir>/.lock``
  (:class:`~.work_dir_lock.WorkDirLock`): a second training run in the same
  work_dir stops with an error naming the first (pid, host, start time);
* every run gets its own log folder (``<timestamp>``, ``<timestamp>_1``, ...
  when two runs start within one second) and temporary checkpoint names
  carry the process id.

It also guards long runs against configuration mistakes:

* before training / validation / testing the head, datasets and evaluators
  must agree on the tasks and class counts
  (:func:`mmdmtl.engine.consistency.check_runner_consistency`);
* ``--resume`` refuses a checkpoint whose weights do not match the model
  (changed task list or head size) and lists the differences, instead of
  silently keeping freshly initialised weights;
* ``load_from`` logs a summary of missing / unexpected / mismatched keys;
  a checkpoint sharing no weight with the model (another model) is refused,
  and so is evaluating (``tools/test.py``) with missing weights;
* distributed runs work on CPU: the ``nccl`` backend falls back to ``gloo``
  when CUDA is unavailable, and the model is wrapped in DDP without
  ``device_ids``.
"""
import copy
import os
import os.path as osp
import pickle
import random
import re
import zipfile
from contextlib import contextmanager
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Union

import numpy as np
import torch
from mmengine.device import get_device
from mmengine.dist import broadcast_object_list, is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.logging import HistoryBuffer, print_log
from mmengine.model import MMDistributedDataParallel, convert_sync_batchnorm, is_model_wrapper
from mmengine.runner import BaseLoop, Runner
from mmengine.runner.checkpoint import CheckpointLoader

from mmdmtl.registry import RUNNERS

from .checkpoint_manifest import MANIFEST_NAME, changed_since_saved, record_checkpoint
from .consistency import check_runner_consistency, head_tasks
from .resume_candidates import relocate, resume_candidates
from .work_dir_lock import WorkDirLock, WorkDirLockedError

#: Marker key identifying a HistoryBuffer converted to plain types.
_HB_MARKER = '__mmdmtl_history_buffer__'


def to_safe_state(obj: Any) -> Any:
    """Recursively convert ``obj`` into types ``torch.load(weights_only=True)``
    accepts: dicts, lists, tuples, str, int, float, bool, None and tensors.

    ``HistoryBuffer`` becomes a marked dict (restored by
    :func:`message_hub_from_safe`), numpy arrays become tensors and numpy
    scalars become Python numbers.
    """
    if isinstance(obj, HistoryBuffer):
        return {
            _HB_MARKER: True,
            'log_history': torch.from_numpy(np.asarray(obj._log_history,
                                                       dtype=np.float64)),
            'count_history': torch.from_numpy(np.asarray(obj._count_history,
                                                         dtype=np.float64)),
            'max_length': int(obj.max_length),
        }
    if isinstance(obj, dict):
        return {k: to_safe_state(v) for k, v in obj.items()}
    if isinstance(obj, tuple):
        return tuple(to_safe_state(v) for v in obj)
    if isinstance(obj, list):
        return [to_safe_state(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(obj))
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def message_hub_from_safe(obj: Any) -> Any:
    """Inverse of :func:`to_safe_state` for HistoryBuffers (recursively)."""
    if isinstance(obj, dict):
        if obj.get(_HB_MARKER, False):
            buf = HistoryBuffer(max_length=obj['max_length'])
            buf._log_history = obj['log_history'].numpy()
            buf._count_history = obj['count_history'].numpy()
            return buf
        return {k: message_hub_from_safe(v) for k, v in obj.items()}
    return obj


class CheckpointReadError(RuntimeError):
    """A checkpoint file is empty, truncated or otherwise unreadable."""


class UnsafeCheckpointError(RuntimeError):
    """The safe (``weights_only``) unpickler refused a checkpoint's content:
    it is not in mmdmtl's safe format (a plain-mmengine checkpoint, a planted
    or malicious file, or no checkpoint at all)."""


def conversion_command(filename: str) -> str:
    """The ``tools/convert_checkpoint.py`` command converting ``filename``
    (for files from a trusted source only)."""
    root, ext = osp.splitext(filename)
    return (f'python tools/convert_checkpoint.py {filename} '
            f'{root}_safe{ext or ".pth"} --trust')


def _first_line(e: BaseException) -> str:
    """The informative line of an exception's message (torch's unpickler
    puts what it refused on a line starting ``WeightsUnpickler error``),
    without terminal escape codes; the exception type if it has none."""
    lines = [re.sub(r'\x1b\[[0-9;]*m', '', line).strip()
             for line in str(e).splitlines()]
    lines = [line for line in lines if line]
    detail = [line.split(' Please use')[0] for line in lines
              if line.startswith('WeightsUnpickler error')]  # drop torch's allow-list advice
    return (detail or lines or [type(e).__name__])[0]


def _is_damage(e: BaseException) -> bool:
    """Whether ``torch.load`` failed because the file's bytes are damaged
    (empty, truncated, not a zip archive) rather than because of the
    environment (e.g. an unavailable device in ``map_location``)."""
    if isinstance(e, PermissionError):
        return False
    if isinstance(e, (EOFError, OSError, zipfile.BadZipFile)):
        return True
    if isinstance(e, pickle.UnpicklingError):
        return 'weights only' not in str(e).lower()
    return isinstance(e, RuntimeError) and (
        'PytorchStreamReader' in str(e) or 'zip archive' in str(e))


def safe_torch_load(filename: str, map_location: Any = None) -> Any:
    """``torch.load`` with ``weights_only=True``; never unpickles anything
    else. Errors name the file.

    Raises:
        FileNotFoundError: there is no such file.
        CheckpointReadError: the file is empty, truncated or corrupt.
        UnsafeCheckpointError: the safe unpickler refused the content; the
            message prints the conversion command for trusted files.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'Checkpoint {filename} can not be found.')
    size = osp.getsize(filename)
    if size == 0:
        raise CheckpointReadError(
            f'Could not load checkpoint {filename}: it is empty (0 bytes); the '
            'run that wrote it was probably killed or the disk was full.')
    try:
        return torch.load(filename, map_location=map_location,
                          weights_only=True)
    except Exception as e:  # noqa: BLE001 - re-raised with context
        if _is_damage(e):
            raise CheckpointReadError(
                f'Could not load checkpoint {filename} ({size} bytes): it is '
                f'truncated or corrupt: {_first_line(e)}') from e
        if not isinstance(e, pickle.UnpicklingError):
            raise RuntimeError(f'Could not load checkpoint {filename}: '
                               f'{_first_line(e)}') from e
        raise UnsafeCheckpointError(
            f'Could not load checkpoint {filename} with the safe '
            f'(weights_only) unpickler: {_first_line(e)} ... '
            'mmdmtl never unpickles arbitrary objects from a checkpoint, '
            'wherever the file lies (load_from, --resume, the work_dir). If '
            'this file comes from a source you trust (e.g. a plain-mmengine '
            'checkpoint of your own), convert it once with '
            f'`{conversion_command(filename)}` and use the converted file; '
            'otherwise delete it.') from e


@contextmanager
def _local_loader(fn: Callable):
    """Temporarily replace mmengine's loader for local paths by ``fn``."""
    schemes = CheckpointLoader._schemes
    old = schemes['']
    schemes[''] = fn
    try:
        yield
    finally:
        schemes[''] = old


@RUNNERS.register_module()
class MTLRunner(Runner):
    """:class:`mmengine.runner.Runner` with safe checkpoint saving and
    loading (see the module docstring). Select it in a config with
    ``runner_type = 'MTLRunner'``; everything else is unchanged."""

    def save_checkpoint(self, out_dir: str, filename: str, *args,
                        meta: Optional[dict] = None, **kwargs) -> None:
        """Save a checkpoint in the safe format; ``meta['rng_state']``
        records the Python, numpy and torch RNG states so that a resumed
        run continues with the same random stream (augmentation, diffusion
        noise) as an uninterrupted one."""
        meta = dict(meta or {})
        meta['rng_state'] = get_rng_state()
        with _SafeSaveContext():
            super().save_checkpoint(out_dir, filename, *args, meta=meta,
                                    **kwargs)

    def setup_env(self, env_cfg: Dict) -> None:
        """mmengine's environment setup, made to work without CUDA: a
        distributed run on a machine without CUDA uses the ``gloo`` backend
        instead of ``nccl``, and with ``launcher='pytorch'`` (torchrun) or
        ``'slurm'`` (srun) the process group is initialised here (mmengine
        would call ``torch.cuda.set_device`` first, which fails without
        CUDA)."""
        launcher = getattr(self, '_launcher', 'none')
        dist_cfg = dict((env_cfg or {}).get('dist_cfg') or {})
        if launcher != 'none' and not torch.cuda.is_available():
            if dist_cfg.get('backend', 'nccl') == 'nccl':
                print_log('CUDA is not available: using the gloo backend for '
                          'distributed training instead of nccl.',
                          logger='current', level=30)
                dist_cfg['backend'] = 'gloo'
            env_cfg = copy.deepcopy(dict(env_cfg))
            env_cfg['dist_cfg'] = dist_cfg
            if not torch.distributed.is_initialized():
                if launcher == 'slurm':
                    _slurm_env_to_torch_env(dist_cfg.pop('port', None))
                if launcher in ('pytorch', 'slurm'):
                    torch.distributed.init_process_group(**dist_cfg)
        super().setup_env(env_cfg)
        self._timestamp = self._claim_log_dir(self._timestamp)

    def _claim_log_dir(self, timestamp: str) -> str:
        """A name for this run's log folder that no other run uses.

        mmengine names it by the start second, so two runs started within
        one second would share (and truncate) one log. The main process
        creates ``<work_dir>/<timestamp>`` atomically, adding ``_1``, ``_2``,
        ... while the name is taken, and sends the name to the other ranks.
        """
        name = [timestamp]
        if is_main_process():
            for n in range(10000):
                candidate = timestamp if n == 0 else f'{timestamp}_{n}'
                try:
                    os.mkdir(osp.join(self._work_dir, candidate))
                except FileExistsError:
                    continue
                name = [candidate]
                break
        broadcast_object_list(name)
        return name[0]

    def wrap_model(self, model_wrapper_cfg: Optional[Dict],
                   model: torch.nn.Module) -> torch.nn.Module:
        """mmengine's wrapping, except that a distributed CPU run gets a DDP
        wrapper without ``device_ids`` (mmengine passes the local rank as a
        CUDA device id, which DDP rejects for CPU modules)."""
        if (not self.distributed or model_wrapper_cfg is not None
                or is_model_wrapper(model) or get_device() != 'cpu'):
            return super().wrap_model(model_wrapper_cfg, model)
        sync_bn = self.cfg.get('sync_bn', None)
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
            find_unused_parameters=self.cfg.get('find_unused_parameters', False))

    def train(self) -> torch.nn.Module:
        """mmengine's training, holding the exclusive lock of the work_dir
        (``<work_dir>/.lock``) for the whole run.

        Raises:
            WorkDirLockedError: another training run uses this work_dir; the
                message names it (pid, host, start time, command).
        """
        with self._work_dir_locked():
            return super().train()

    @contextmanager
    def _work_dir_locked(self):
        """Lock the work_dir on the main process; every rank raises if that
        fails (so no rank hangs waiting for the others)."""
        lock = WorkDirLock(self.work_dir) if is_main_process() else None
        error = [None]
        if lock is not None:
            try:
                lock.acquire()
            except WorkDirLockedError as e:
                error = [str(e)]
        broadcast_object_list(error)
        if error[0] is not None:
            raise WorkDirLockedError(error[0])
        try:
            yield
        finally:
            if lock is not None:
                lock.release()

    def load_or_resume(self) -> None:
        """Check the config's consistency (head vs. datasets / evaluators of
        the built loops), then load or resume, then re-apply the
        checkpoint's RNG state once the train loop has skipped the
        already-trained batches.

        An auto-resume (``resume=True`` without ``load_from``) tries the
        work_dir's checkpoints newest first (see :meth:`auto_resume`)."""
        check_runner_consistency(self.model, [
            (name, loop) for name, loop in (
                ('train_dataloader', self._train_loop), ('val_dataloader', self._val_loop),
                ('test_dataloader', self._test_loop)) if isinstance(loop, BaseLoop)])
        self._resume_rng_state = None
        if self._resume and self._load_from is None and not self._has_loaded:
            if self.auto_resume():
                self._has_loaded = True
        else:
            super().load_or_resume()
        state = self._resume_rng_state
        loop = getattr(self, '_train_loop', None)
        if state is None or loop is None or not hasattr(
                loop, 'dataloader_iterator') or getattr(loop, '_iter', 0) == 0:
            if state is not None:
                set_rng_state(state)
            return
        loop.dataloader_iterator = _RestoreRngAfterSkip(
            loop.dataloader_iterator, loop._iter, state)

    def auto_resume(self) -> bool:
        """Resume from the newest readable checkpoint of this work_dir.

        Candidates (:func:`~.resume_candidates.resume_candidates`): the file
        ``last_checkpoint`` names, looked up in this run's checkpoint folder
        (not at the recorded absolute path, which in a copied work_dir is the
        original's), then the other ``iter_N.pth`` / ``epoch_N.pth`` by
        decreasing N. A missing, empty, truncated or corrupt candidate is
        skipped with a warning naming it. A candidate that the safe
        unpickler refuses, or whose weights do not fit the model, stops the
        run (its error names the file).

        Returns:
            True if a checkpoint was resumed, False if the work_dir has none
            (training starts from scratch).

        Raises:
            CheckpointReadError: checkpoints exist but none is readable.
        """
        ckpt_dir = self._checkpoint_dir()
        if ckpt_dir is None:  # remote storage: mmengine's behaviour
            from mmengine.runner.checkpoint import find_latest_checkpoint
            resume_from = find_latest_checkpoint(self.work_dir)
            if resume_from is None:
                return False
            self.logger.info(f'Auto resumed from the latest checkpoint {resume_from}.')
            self.resume(resume_from)
            return True
        hook = self._checkpoint_hook()
        candidates, recorded = resume_candidates(
            self.work_dir, ckpt_dir, getattr(hook, 'filename_tmpl', None))
        if recorded is not None and candidates and candidates[0] != recorded:
            self.logger.warning(
                f'last_checkpoint records {recorded}; resuming from this '
                f'work_dir\'s copy {candidates[0]} instead (paths are resolved '
                'relative to the work_dir being resumed).')
        if not candidates:
            self.logger.info(f'No checkpoint found in {ckpt_dir}: training '
                             'starts from scratch.')
            return False
        skipped = []
        for path in candidates:
            changed = changed_since_saved(path)
            if changed is not None:
                skipped.append(f'{path}: {changed}')
                self.logger.warning(
                    f'Skipped checkpoint {path} for resuming: {changed}. '
                    'Trying the next newest checkpoint.')
                continue
            try:
                self.resume(path)
            except (FileNotFoundError, CheckpointReadError) as e:
                reason = str(e)
                skipped.append(f'{path}: {reason}')
                self.logger.warning(
                    f'Skipped checkpoint {path} for resuming: {reason} '
                    'Trying the next newest checkpoint.')
                continue
            self.logger.info(f'Auto resumed from the latest checkpoint {path}.')
            return True
        raise CheckpointReadError(
            f'Cannot resume: none of the checkpoints of {ckpt_dir} can be read ('
            + '; '.join(skipped) + '). Delete the broken files to train from '
            'scratch, or resume from a good checkpoint with --resume FILE.')

    def _checkpoint_hook(self) -> Optional[CheckpointHook]:
        return next((h for h in self.hooks if isinstance(h, CheckpointHook)), None)

    def _checkpoint_dir(self) -> Optional[str]:
        """The local folder the CheckpointHook writes to (the work_dir unless
        its ``out_dir`` is set), or None for remote storage."""
        hook = self._checkpoint_hook()
        out_dir = getattr(hook, 'out_dir', None)
        if out_dir is None or str(out_dir) == self.work_dir:
            return self.work_dir
        out_dir = str(out_dir)
        if '://' in out_dir:
            return None
        if getattr(hook, 'file_backend', None) is not None:
            return out_dir  # the hook's before_train already set its folder
        return osp.join(out_dir, osp.basename(self.work_dir.rstrip(osp.sep)))

    def load_checkpoint(self,
                        filename: str,
                        map_location: Union[str, Callable] = 'cpu',
                        strict: bool = False,
                        revise_keys: list = [(r'^module.', '')]):
        """Load a checkpoint safely (``weights_only=True``); see
        :func:`safe_torch_load` for the errors."""

        def loader(name: str, map_location: Any = None) -> Any:
            ckpt = safe_torch_load(name, map_location)
            self._check_checkpoint(name, ckpt, revise_keys)
            return ckpt

        with _local_loader(loader):
            checkpoint = super().load_checkpoint(
                filename, map_location=map_location, strict=strict,
                revise_keys=revise_keys)
        if 'message_hub' in checkpoint:
            checkpoint['message_hub'] = message_hub_from_safe(
                checkpoint['message_hub'])
        self._last_loaded_meta = checkpoint.get('meta')
        return checkpoint

    def resume(self,
               filename: str,
               resume_optimizer: bool = True,
               resume_param_scheduler: bool = True,
               map_location: Union[str, Callable] = 'default') -> None:
        """Resume training from ``filename`` (safe loading only).

        Checkpoint paths restored from the checkpoint's message hub
        (``last_ckpt``, ``best_ckpt*``) that lie outside this run's
        checkpoint folder are replaced by the file of the same name inside
        it, so the CheckpointHook never deletes a file of another work_dir
        (e.g. the original of a copied work_dir). ``resumed_from`` records
        the file used.
        """
        self._last_loaded_meta = None
        self._resuming = True
        try:
            super().resume(filename, resume_optimizer, resume_param_scheduler,
                           map_location)
        finally:
            self._resuming = False
        self.resumed_from = filename
        meta = self._last_loaded_meta or {}
        self._resume_rng_state = meta.get('rng_state')
        self._relocate_hub_paths()

    def _relocate_hub_paths(self) -> None:
        """Move checkpoint paths of the message hub's runtime info into this
        run's checkpoint folder (see :meth:`resume`)."""
        ckpt_dir = self._checkpoint_dir()
        if ckpt_dir is None:
            return
        info = self.message_hub.runtime_info
        for key in list(info):
            value = info[key]
            if not (key == 'last_ckpt' or key.startswith('best_ckpt')) or not (
                    isinstance(value, str) and value and '://' not in value):
                continue
            moved = relocate(value, ckpt_dir)
            if moved != value:
                self.logger.warning(
                    f'The resumed checkpoint records {key}={value}, outside '
                    f'this run\'s checkpoint folder; using {moved} instead (files '
                    'outside the work_dir are never replaced or deleted).')
                self.message_hub.update_info(key, moved)

    def _check_checkpoint(self, filename: str, checkpoint: Any,
                          revise_keys: list) -> None:
        """Compare a loaded checkpoint's weights with the model before they
        are copied in.

        * no common weight name: the file belongs to another model -> error;
        * resuming: any missing / unexpected / differently shaped weight ->
          error listing them (a changed task list or head size would
          otherwise silently keep freshly initialised weights);
        * ``load_from`` for training: a warning summarising the differences;
        * ``load_from`` for testing (no train loop): missing or differently
          shaped weights -> error (the metrics would be those of random
          weights).

        Raises:
            CheckpointMismatchError: see above; names the file.
        """
        model = self.model.module if is_model_wrapper(self.model) else self.model
        sd = checkpoint.get('state_dict', checkpoint) if isinstance(
            checkpoint, Mapping) else None
        if not isinstance(sd, Mapping) or not sd or not all(
                isinstance(v, torch.Tensor) for v in sd.values()):
            raise CheckpointMismatchError(
                f'{filename} is not a model checkpoint: expected a dict of '
                'tensors or a dict with a "state_dict" of tensors, got '
                f'{type(checkpoint).__name__} with keys '
                f'{list(checkpoint)[:5] if isinstance(checkpoint, Mapping) else "-"}')
        for pattern, repl in revise_keys:
            sd = {re.sub(pattern, repl, k): v for k, v in sd.items()}
        missing, unexpected, shapes = state_dict_differences(model.state_dict(), sd)
        name = type(model).__name__
        n_common = len(sd) - len(unexpected)
        if n_common == 0:
            raise CheckpointMismatchError(
                f'Checkpoint {filename} shares no weight with the {name} built from '
                f'this config: it is a checkpoint of another model (its keys look '
                f'like {sorted(sd)[:3]}, the model\'s like '
                f'{sorted(model.state_dict())[:3]}).')
        if not (missing or unexpected or shapes):
            return
        detail = describe_differences(missing, unexpected, shapes)
        meta = checkpoint.get('meta') if isinstance(checkpoint, Mapping) else None
        ckpt_tasks = ((meta or {}).get('dataset_meta') or {}).get('tasks')
        tasks = head_tasks(model)
        if ckpt_tasks is not None and tasks is not None:
            detail += (f' The checkpoint was trained for tasks {list(ckpt_tasks)}; '
                       f'this config\'s head predicts {tasks}.')
        if getattr(self, '_resuming', False):
            raise CheckpointMismatchError(
                f'Cannot resume from {filename}: its weights do not match the '
                f'{name} built from this config (was the task list or a head size '
                f'changed?). {detail} Resume with the config the run was started '
                'with, or start a new run with load_from=... to initialise from '
                'the matching weights.')
        if not isinstance(self._train_loop, BaseLoop) and (missing or shapes):
            raise CheckpointMismatchError(
                f'Cannot evaluate with checkpoint {filename}: it does not provide '
                f'all weights of the {name} built from this config. {detail}')
        self.logger.warning(
            f'load_from={filename} does not match the model exactly; these weights '
            f'keep their initialisation: {detail}')


def _slurm_env_to_torch_env(port: Optional[int] = None) -> None:
    """Set ``RANK`` / ``WORLD_SIZE`` / ``LOCAL_RANK`` / ``MASTER_ADDR`` /
    ``MASTER_PORT`` from Slurm's variables, like mmengine's slurm launcher
    but without selecting a CUDA device (for CPU-only Slurm jobs).
    ``MASTER_ADDR`` / ``MASTER_PORT`` already in the environment are kept;
    otherwise the first host of ``SLURM_NODELIST`` and port 29500 are used."""
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
        import subprocess
        nodes = os.environ.get('SLURM_NODELIST', '')
        addr = subprocess.getoutput(f'scontrol show hostname {nodes} | head -n1').strip()
        if not addr or ' ' in addr:
            raise RuntimeError(f'launcher=slurm: cannot resolve the master host of '
                               f'SLURM_NODELIST={nodes!r} ({addr!r}); set MASTER_ADDR')
        os.environ['MASTER_ADDR'] = addr


class CheckpointMismatchError(RuntimeError):
    """A checkpoint's weights do not fit the model built from the config."""


def state_dict_differences(
        model_sd: Mapping[str, torch.Tensor], ckpt_sd: Mapping[str, torch.Tensor]
) -> Tuple[List[str], List[str], List[str]]:
    """Missing keys, unexpected keys and shape mismatches (as
    ``'key: checkpoint (shape) vs model (shape)'``) of ``ckpt_sd`` relative to
    ``model_sd``. BatchNorm ``num_batches_tracked`` counters are ignored."""
    missing = [k for k in model_sd if k not in ckpt_sd
               and not k.endswith('num_batches_tracked')]
    unexpected = [k for k in ckpt_sd if k not in model_sd]
    shapes = [f'{k}: checkpoint {tuple(ckpt_sd[k].shape)} vs model '
              f'{tuple(v.shape)}' for k, v in model_sd.items()
              if k in ckpt_sd and tuple(ckpt_sd[k].shape) != tuple(v.shape)]
    return missing, unexpected, shapes


def describe_differences(missing: List[str], unexpected: List[str],
                         shapes: List[str], limit: int = 8) -> str:
    """One line per kind of difference, listing at most ``limit`` keys."""

    def fmt(keys: List[str]) -> str:
        more = f', ... ({len(keys) - limit} more)' if len(keys) > limit else ''
        return ', '.join(keys[:limit]) + more

    parts = []
    if missing:
        parts.append(f'{len(missing)} missing in the checkpoint: {fmt(missing)}')
    if unexpected:
        parts.append(f'{len(unexpected)} unexpected (not in the model): '
                     f'{fmt(unexpected)}')
    if shapes:
        parts.append(f'{len(shapes)} with a different shape: {fmt(shapes)}')
    return '; '.join(parts) + '.'


def get_rng_state() -> dict:
    """Python, numpy and torch (CPU, and CUDA when used) RNG states."""
    state = {
        'python': random.getstate(),
        'numpy': np.random.get_state(),
        'torch': torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Inverse of :func:`get_rng_state` (accepts its safe-format copy)."""
    py = state['python']
    random.setstate((py[0], tuple(py[1]), py[2]))
    np_state = list(state['numpy'])
    np_state[1] = np.asarray(np_state[1], dtype=np.uint32) if not isinstance(
        np_state[1], torch.Tensor) else np_state[1].numpy().astype(np.uint32)
    np.random.set_state(tuple(np_state))
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


class _RestoreRngAfterSkip:
    """Wrap a train-loop data iterator: after the first ``n_skip`` batches
    (those the resumed loop skips), restore the checkpoint's RNG state."""

    def __init__(self, iterator, n_skip: int, state: dict) -> None:
        self._it, self._left, self._state = iterator, n_skip, state

    def __iter__(self):
        return self

    def __next__(self):
        item = next(self._it)
        if self._left > 0:
            self._left -= 1
            if self._left == 0:
                set_rng_state(self._state)
        return item

    def __getattr__(self, name):
        return getattr(self._it, name)


class _SafeSaveContext:
    """Make ``mmengine.runner.checkpoint.save_checkpoint`` write safe types.

    mmengine's Runner builds the checkpoint dict and hands it to
    ``save_checkpoint``; converting there keeps every other behaviour of
    ``Runner.save_checkpoint`` (hooks, file client, ``last_checkpoint``).
    """

    def __enter__(self) -> None:
        import mmengine.runner.runner as runner_mod
        self._mod = runner_mod
        self._orig = runner_mod.save_checkpoint

        def safe_save(checkpoint: Dict, filename: str, *args, **kwargs):
            checkpoint = dict(checkpoint)
            for key in ('meta', 'message_hub'):
                if key in checkpoint:
                    checkpoint[key] = to_safe_state(checkpoint[key])
            if '://' in str(filename) or args or any(
                    kwargs.get(k) is not None
                    for k in ('file_client_args', 'backend_args')):
                return self._orig(checkpoint, filename, *args, **kwargs)
            # local file: write a temporary file, then rename it, so that a
            # run killed while saving never leaves a truncated checkpoint
            tmp = f'{filename}.{os.getpid()}.part'
            self._orig(checkpoint, tmp, **kwargs)
            os.replace(tmp, filename)
            try:
                record_checkpoint(filename)
            except OSError as e:
                print_log(f'Could not record the SHA-256 of {filename} in '
                          f'{MANIFEST_NAME}: {e}', logger='current', level=30)

        runner_mod.save_checkpoint = safe_save

    def __exit__(self, *exc) -> None:
        self._mod.save_checkpoint = self._orig
