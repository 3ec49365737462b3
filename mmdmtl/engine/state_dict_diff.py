"""Compare a checkpoint's weights with a model before they are copied in.

mmengine loads ``load_from`` / ``--resume`` checkpoints with
``strict=False`` and only logs the differences, so a resumed run with a
changed task list silently keeps freshly initialised weights, and
``tools/test.py`` with the wrong checkpoint reports the metrics of random
weights. :func:`check_checkpoint_fits` decides, per purpose, whether the
differences are an error or a warning.
"""
import re
from typing import Any, List, Mapping, Optional, Sequence, Tuple

import torch

from .consistency import head_tasks

#: Why a checkpoint is loaded (see :func:`check_checkpoint_fits`).
PURPOSES = ('resume', 'train', 'test')


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


def check_checkpoint_fits(model: torch.nn.Module, filename: str, checkpoint: Any,
                          revise_keys: Sequence[Tuple[str, str]],
                          purpose: str) -> Optional[str]:
    """Compare a loaded checkpoint's weights with ``model``.

    * no common weight name: the file belongs to another model -> error;
    * ``purpose='resume'``: any missing / unexpected / differently shaped
      weight -> error listing them (a changed task list or head size would
      otherwise silently keep freshly initialised weights);
    * ``purpose='train'`` (``load_from`` for training): a warning
      summarising the differences;
    * ``purpose='test'`` (no train loop): missing or differently shaped
      weights -> error (the metrics would be those of random weights).

    Args:
        model: The unwrapped model.
        filename: Names the file in the messages.
        checkpoint: The loaded checkpoint (a state dict, or a dict with a
            ``state_dict``).
        revise_keys: ``(pattern, replacement)`` pairs applied to the
            checkpoint's keys first, as in ``Runner.load_checkpoint``.
        purpose: One of :data:`PURPOSES`.

    Returns:
        The warning to log, or ``None`` when the weights match exactly.

    Raises:
        CheckpointMismatchError: see above; names the file.
    """
    if purpose not in PURPOSES:
        raise ValueError(f'purpose must be one of {PURPOSES}, got {purpose!r}')
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
    model_sd = model.state_dict()
    missing, unexpected, shapes = state_dict_differences(model_sd, sd)
    name = type(model).__name__
    if len(sd) == len(unexpected):
        raise CheckpointMismatchError(
            f'Checkpoint {filename} shares no weight with the {name} built from '
            f'this config: it is a checkpoint of another model (its keys look '
            f'like {sorted(sd)[:3]}, the model\'s like '
            f'{sorted(model_sd)[:3]}).')
    if not (missing or unexpected or shapes):
        return None
    detail = describe_differences(missing, unexpected, shapes)
    meta = checkpoint.get('meta')
    ckpt_tasks = ((meta or {}).get('dataset_meta') or {}).get('tasks')
    tasks = head_tasks(model)
    if ckpt_tasks is not None and tasks is not None:
        detail += (f' The checkpoint was trained for tasks {list(ckpt_tasks)}; '
                   f'this config\'s head predicts {tasks}.')
    if purpose == 'resume':
        raise CheckpointMismatchError(
            f'Cannot resume from {filename}: its weights do not match the '
            f'{name} built from this config (was the task list or a head size '
            f'changed?). {detail} Resume with the config the run was started '
            'with, or start a new run with load_from=... to initialise from '
            'the matching weights.')
    if purpose == 'test' and (missing or shapes):
        raise CheckpointMismatchError(
            f'Cannot evaluate with checkpoint {filename}: it does not provide '
            f'all weights of the {name} built from this config. {detail}')
    return (f'load_from={filename} does not match the model exactly; these weights '
            f'keep their initialisation: {detail}')
