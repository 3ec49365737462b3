"""Checkpoint files that load with PyTorch's safe (``weights_only``)
unpickler.

mmengine 0.10.7 stores its :class:`~mmengine.logging.MessageHub` state
(``HistoryBuffer`` objects holding numpy arrays) in every checkpoint. Since
torch 2.6 ``torch.load`` defaults to ``weights_only=True``, which refuses
those objects, so ``--resume`` crashes. Allow-listing them is not enough
(their pickles call the builtin ``getattr``, which must never be allowed),
and turning safe loading off for every file would let a downloaded
``load_from`` checkpoint run arbitrary code. This module instead

* writes checkpoints whose ``message_hub`` and ``meta`` contain only plain
  Python containers, numbers, strings and tensors (:func:`to_safe_state`,
  undone by :func:`message_hub_from_safe`; :class:`SafeSaveContext` also
  writes through a temporary file and records the file's SHA-256);
* reads every local checkpoint with :func:`safe_torch_load`
  (``weights_only=True``, never a fallback to full unpickling), registered
  as mmengine's loader for local paths through the public
  ``CheckpointLoader.register_scheme(..., force=True)`` when this module is
  imported, so ``load_from``, ``--resume``, ``tools/test.py`` and
  ``init_cfg=dict(type='Pretrained', ...)`` all use it. A file the safe
  unpickler refuses raises :class:`UnsafeCheckpointError` with the
  ``tools/convert_checkpoint.py`` command for files you trust; an empty,
  truncated or corrupt file raises :class:`CheckpointReadError` naming it.
"""
import os
import os.path as osp
import pickle
import re
import zipfile
from typing import Any, Dict

import numpy as np
import torch
from mmengine.logging import HistoryBuffer, print_log
from mmengine.runner.checkpoint import CheckpointLoader

from .checkpoint_manifest import MANIFEST_NAME, record_checkpoint

#: Marker key identifying a HistoryBuffer converted to plain types.
_HB_MARKER = '__mmdmtl_history_buffer__'


class CheckpointReadError(RuntimeError):
    """A checkpoint file is empty, truncated or otherwise unreadable."""


class UnsafeCheckpointError(RuntimeError):
    """The safe (``weights_only``) unpickler refused a checkpoint's content:
    it is not in mmdmtl's safe format (a plain-mmengine checkpoint, a planted
    or malicious file, or no checkpoint at all)."""


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


def load_from_safe_local(filename: str, map_location: Any = None) -> Any:
    """mmengine checkpoint loader for local paths (the ``''`` scheme):
    :func:`safe_torch_load`. mmengine logs the loader's name after its
    first 10 characters ("Loads checkpoint by safe_local backend")."""
    return safe_torch_load(filename, map_location)


def register_safe_local_loader() -> None:
    """Make :func:`load_from_safe_local` mmengine's loader for local paths
    (every path without a registered prefix such as ``http://``)."""
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_safe_local,
                                     force=True)


register_safe_local_loader()


class SafeSaveContext:
    """Make ``mmengine.runner.checkpoint.save_checkpoint`` write safe types.

    mmengine's Runner builds the checkpoint dict and hands it to
    ``save_checkpoint``; converting there keeps every other behaviour of
    ``Runner.save_checkpoint`` (hooks, file client, ``last_checkpoint``).
    A local file is written to ``<name>.<pid>.part`` and renamed, so a run
    killed while saving never leaves a truncated checkpoint, and its SHA-256
    is recorded in the work_dir's manifest (:mod:`.checkpoint_manifest`).
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
