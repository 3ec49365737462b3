"""The runner of mmdmtl: mmengine's :class:`~mmengine.runner.Runner` made
safe for long multi-task runs. Select it with ``runner_type = 'MTLRunner'``.

It composes:

* safe checkpoint I/O (:mod:`.checkpoint_io`): checkpoints are written in a
  format ``torch.load(weights_only=True)`` accepts and every checkpoint
  (``load_from``, ``--resume``, ``tools/test.py``) is read with the safe
  unpickler, never falling back to full unpickling;
* the RNG state saved in each checkpoint (:mod:`.rng_state`), so that a
  resumed run continues with the random stream of an uninterrupted one;
* a comparison of a checkpoint's weights with the model
  (:mod:`.state_dict_diff`): ``--resume`` refuses a checkpoint whose weights
  do not match (changed task list or head size) and lists the differences,
  ``load_from`` logs a summary, a checkpoint sharing no weight with the
  model is refused, and so is evaluating with missing weights;
* work_dir protection: an auto-resume (``--resume`` without a file) tries
  this work_dir's checkpoints newest first, skipping (with a warning naming
  it) a missing, empty or truncated one, or one whose bytes differ from the
  SHA-256 recorded when saving it (:mod:`.checkpoint_manifest`,
  :mod:`.resume_candidates`); paths are resolved in the work_dir being
  resumed, so resuming a copied work_dir neither reads nor deletes files of
  the original; training holds an exclusive lock on ``<work_dir>/.lock``
  (:mod:`.work_dir_lock`); every run gets its own log folder;
* distributed runs on CPU (:mod:`.distributed_cpu`): ``nccl`` falls back to
  ``gloo`` without CUDA and the model is wrapped in DDP without
  ``device_ids``;
* the config consistency check (head vs. datasets vs. evaluators) as
  :class:`~mmdmtl.engine.hooks.MTLConsistencyCheckHook`, added when the
  config does not list it, which refuses a bad config before any checkpoint
  is loaded or any iteration runs.
"""
import os
import os.path as osp
from contextlib import contextmanager
from typing import Callable, Dict, Optional, Union

import torch
from mmengine.device import get_device
from mmengine.dist import broadcast_object_list, is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.model import is_model_wrapper
from mmengine.runner import BaseLoop, Runner
from mmengine.runner.checkpoint import CheckpointLoader, _load_checkpoint_to_model

from mmdmtl.registry import RUNNERS

from .checkpoint_io import (
    CheckpointReadError,
    SafeSaveContext,
    UnsafeCheckpointError,
    message_hub_from_safe,
    safe_torch_load,
    to_safe_state,
)
from .checkpoint_manifest import changed_since_saved
from .distributed_cpu import cpu_env_cfg, wrap_cpu_ddp
from .hooks import MTLConsistencyCheckHook
from .resume_candidates import checkpoint_folder, relocate, resume_candidates
from .rng_state import RestoreRngAfterSkip, get_rng_state, set_rng_state
from .state_dict_diff import CheckpointMismatchError, check_checkpoint_fits
from .work_dir_lock import WorkDirLock, WorkDirLockedError

# names importers used from this module before it was split
__all__ = [
    'MTLRunner', 'CheckpointMismatchError', 'CheckpointReadError',
    'UnsafeCheckpointError', 'message_hub_from_safe', 'safe_torch_load',
    'to_safe_state'
]


@RUNNERS.register_module()
class MTLRunner(Runner):
    """:class:`mmengine.runner.Runner` with safe checkpoint saving and
    loading, resumable RNG state, work_dir protection, CPU distributed
    training and a config consistency check (see the module docstring).
    Select it in a config with ``runner_type = 'MTLRunner'``; everything
    else is unchanged."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not any(isinstance(h, MTLConsistencyCheckHook) for h in self.hooks):
            self.register_hook(MTLConsistencyCheckHook())

    def save_checkpoint(self, out_dir: str, filename: str, *args,
                        meta: Optional[dict] = None, **kwargs) -> None:
        """Save a checkpoint in the safe format; ``meta['rng_state']``
        records the Python, numpy and torch RNG states so that a resumed
        run continues with the same random stream (augmentation, diffusion
        noise) as an uninterrupted one."""
        meta = dict(meta or {})
        meta['rng_state'] = get_rng_state()
        with SafeSaveContext():
            super().save_checkpoint(out_dir, filename, *args, meta=meta,
                                    **kwargs)

    def setup_env(self, env_cfg: Dict) -> None:
        """mmengine's environment setup, made to work without CUDA (see
        :func:`~.distributed_cpu.cpu_env_cfg`), and a log folder of this
        run's own."""
        launcher = getattr(self, '_launcher', 'none')
        if launcher != 'none' and not torch.cuda.is_available():
            env_cfg = cpu_env_cfg(env_cfg, launcher)
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
        wrapper without ``device_ids`` (:func:`~.distributed_cpu.wrap_cpu_ddp`;
        mmengine passes the local rank as a CUDA device id, which DDP
        rejects for CPU modules)."""
        if (not self.distributed or model_wrapper_cfg is not None
                or is_model_wrapper(model) or get_device() != 'cpu'):
            return super().wrap_model(model_wrapper_cfg, model)
        return wrap_cpu_ddp(model, self.cfg.get('sync_bn', None),
                            self.cfg.get('find_unused_parameters', False))

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
        """Load or resume, then re-apply the checkpoint's RNG state once the
        train loop has skipped the already-trained batches.

        An auto-resume (``resume=True`` without ``load_from``) tries the
        work_dir's checkpoints newest first (see :meth:`auto_resume`)."""
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
        loop.dataloader_iterator = RestoreRngAfterSkip(
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
        return checkpoint_folder(self.work_dir, self._checkpoint_hook())

    def load_checkpoint(self,
                        filename: str,
                        map_location: Union[str, Callable] = 'cpu',
                        strict: bool = False,
                        revise_keys: list = [(r'^module.', '')]) -> dict:
        """mmengine's ``Runner.load_checkpoint``, with the weights compared
        to the model before they are copied in.

        The file is read by mmengine's ``CheckpointLoader``, whose loader for
        local paths is :func:`~.checkpoint_io.safe_torch_load` (see
        :mod:`.checkpoint_io` for its errors). Its weights are then checked
        by :func:`~.state_dict_diff.check_checkpoint_fits`: an error when
        resuming with other weights, when evaluating with missing weights,
        or when no weight is shared; a warning for ``load_from`` otherwise.

        Raises:
            CheckpointMismatchError: the weights do not fit (names the file).
        """
        checkpoint = CheckpointLoader.load_checkpoint(filename, map_location)
        model = self.model.module if is_model_wrapper(self.model) else self.model
        if getattr(self, '_resuming', False):
            purpose = 'resume'
        else:
            purpose = 'train' if isinstance(self._train_loop, BaseLoop) else 'test'
        warning = check_checkpoint_fits(model, filename, checkpoint, revise_keys,
                                        purpose)
        if warning is not None:
            self.logger.warning(warning)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        checkpoint = _load_checkpoint_to_model(model, checkpoint, strict,
                                               revise_keys=revise_keys)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
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
