"""How each task's raw network output becomes a prediction."""
from typing import Dict

import torch.nn.functional as F
from torch import Tensor

from mmdmtl.structures.tasks import check_tasks, get_task


def check_task_channels(tasks: Dict[str, int], where: str = '') -> Dict[str, int]:
    """Validate ``{task: output channels}`` of a head.

    Segmentation tasks need >= 2 classes, ``sal``/``edge``/``depth`` one
    channel and ``normal`` three.
    """
    if not isinstance(tasks, dict):
        raise TypeError(f'{where}: tasks must be a dict {{task: channels}}, got {tasks!r}')
    check_tasks(tasks, where=where)
    for name, ch in tasks.items():
        kind = get_task(name).kind
        expected = {'binary': 1, 'depth': 1, 'normal': 3}.get(kind)
        if expected is not None and ch != expected:
            raise ValueError(f'{where}: task {name!r} needs {expected} output channel(s), '
                             f'got {ch}')
        if kind == 'segmentation' and int(ch) < 2:
            raise ValueError(f'{where}: task {name!r} needs >= 2 classes, got {ch}')
    return {k: int(v) for k, v in tasks.items()}


def activate_task_output(task: str, raw: Tensor) -> Tensor:
    """Map a head's raw output to the task's output space.

    Depth goes through ``softplus`` so it is always positive (metres);
    every other task is returned unchanged: class logits for
    ``semseg``/``parts``, a logit for ``sal``/``edge`` (the sigmoid is in
    the loss and in post-processing), an unnormalised 3-vector for
    ``normal`` (normalised in the loss and in post-processing).
    """
    if get_task(task).kind == 'depth':
        return F.softplus(raw)
    return raw


def to_prediction(task: str, out: Tensor) -> Tensor:
    """Activated output ``(..., C, H, W)`` -> the data-sample prediction.

    Labels (argmax, int64) for segmentation, sigmoid probability for
    binary tasks, metres for depth, unit vectors for normals.
    """
    kind = get_task(task).kind
    if kind == 'segmentation':
        return out.argmax(dim=-3, keepdim=True)
    if kind == 'binary':
        return out.sigmoid()
    if kind == 'normal':
        return F.normalize(out, dim=-3, eps=1e-12)
    return out
