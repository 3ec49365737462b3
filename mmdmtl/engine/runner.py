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
  with ``weights_only=True``;
* for ``--resume`` only, and only for a checkpoint inside the run's own
  ``work_dir`` (written by this very experiment, e.g. with plain mmengine),
  falls back to a full unpickle with a warning. Anything else that the safe
  unpickler rejects raises an error that names the file.
"""
import os.path as osp
import random
from contextlib import contextmanager
from typing import Any, Callable, Dict, Optional, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer, print_log
from mmengine.runner import Runner
from mmengine.runner.checkpoint import CheckpointLoader

from mmdmtl.registry import RUNNERS

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


def safe_torch_load(filename: str, map_location: Any = None) -> Any:
    """``torch.load`` with ``weights_only=True``; errors name the file."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'Checkpoint {filename} can not be found.')
    try:
        return torch.load(filename, map_location=map_location,
                          weights_only=True)
    except Exception as e:  # noqa: BLE001 - re-raised with context
        raise RuntimeError(
            f'Could not load checkpoint {filename} with the safe '
            f'(weights_only) unpickler: {str(e).splitlines()[0]} ... '
            'mmdmtl never unpickles arbitrary objects from a checkpoint '
            'given by load_from. If this file comes from a source you trust, '
            'convert it once with `python tools/convert_checkpoint.py '
            f'{filename} OUT.pth --trust`.') from e


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

    def load_or_resume(self) -> None:
        """mmengine's load/resume, then re-apply the checkpoint's RNG state
        once the train loop has skipped the already-trained batches."""
        self._resume_rng_state = None
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

    def load_checkpoint(self,
                        filename: str,
                        map_location: Union[str, Callable] = 'cpu',
                        strict: bool = False,
                        revise_keys: list = [(r'^module.', '')]):
        """Load a checkpoint safely (``weights_only=True``)."""
        loader = _trusted_torch_load if getattr(
            self, '_trust_resume_file', False) else safe_torch_load
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
        """Resume training from ``filename``.

        Checkpoints written by :class:`MTLRunner` load safely. A checkpoint
        in the old (plain mmengine) format is fully unpickled only when it
        lies inside this run's ``work_dir``, i.e. was written by this
        experiment; otherwise the safe loader's error is raised.
        """
        try:
            return self._resume_impl(filename, resume_optimizer,
                                resume_param_scheduler, map_location)
        except RuntimeError as e:
            if ('safe (weights_only) unpickler' not in str(e)
                    or not _is_inside(filename, self.work_dir)):
                raise
        print_log(
            f'{filename} is a plain-mmengine checkpoint of this work_dir; '
            'loading it with full unpickling because this run wrote it.',
            logger='current', level=30)
        self._trust_resume_file = True
        try:
            return self._resume_impl(filename, resume_optimizer,
                                resume_param_scheduler, map_location)
        finally:
            self._trust_resume_file = False


    def _resume_impl(self, filename, resume_optimizer, resume_param_scheduler,
                map_location) -> None:
        self._last_loaded_meta = None
        super().resume(filename, resume_optimizer, resume_param_scheduler,
                       map_location)
        meta = self._last_loaded_meta or {}
        self._resume_rng_state = meta.get('rng_state')


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


def _trusted_torch_load(filename: str, map_location: Any = None) -> Any:
    """Full unpickling; used only for resuming this run's own files."""
    return torch.load(osp.expanduser(filename), map_location=map_location,
                      weights_only=False)


def _is_inside(path: str, folder: Optional[str]) -> bool:
    if folder is None:
        return False
    path = osp.realpath(osp.expanduser(path))
    folder = osp.realpath(osp.expanduser(folder))
    return osp.commonpath([path, folder]) == folder


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

        def safe_save(checkpoint: Dict, *args, **kwargs):
            checkpoint = dict(checkpoint)
            for key in ('meta', 'message_hub'):
                if key in checkpoint:
                    checkpoint[key] = to_safe_state(checkpoint[key])
            return self._orig(checkpoint, *args, **kwargs)

        runner_mod.save_checkpoint = safe_save

    def __exit__(self, *exc) -> None:
        self._mod.save_checkpoint = self._orig
