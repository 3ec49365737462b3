"""How each task's raw network output becomes a prediction (each task object
decides: :meth:`~mmdmtl.tasks.BaseTask.activate` and
:meth:`~mmdmtl.tasks.BaseTask.to_prediction`)."""
from typing import Dict

from torch import Tensor

from mmdmtl.structures.tasks import check_tasks, get_task


def check_task_channels(tasks: Dict[str, int], where: str = '') -> Dict[str, int]:
    """Validate ``{task: output channels}`` of a head.

    Each task checks its count (:meth:`~mmdmtl.tasks.BaseTask.check_channels`):
    segmentation tasks need >= 2 classes, ``sal``/``edge``/``depth`` one
    channel and ``normal`` three.
    """
    if not isinstance(tasks, dict):
        raise TypeError(f'{where}: tasks must be a dict {{task: channels}}, got {tasks!r}')
    check_tasks(tasks, where=where)
    return {name: get_task(name).check_channels(ch, where) for name, ch in tasks.items()}


def activate_task_output(task: str, raw: Tensor) -> Tensor:
    """Map a head's raw output to the task's output space.

    Depth goes through ``softplus`` so it is always positive (metres);
    every other built-in task is returned unchanged: class logits for
    ``semseg``/``parts``, a logit for ``sal``/``edge`` (the sigmoid is in
    the loss and in post-processing), an unnormalised 3-vector for
    ``normal`` (normalised in the loss and in post-processing).
    """
    return get_task(task).activate(raw)


def to_prediction(task: str, out: Tensor) -> Tensor:
    """Activated output ``(..., C, H, W)`` -> the data-sample prediction.

    Labels (argmax, int64) for segmentation, sigmoid probability for
    binary tasks, metres for depth, unit vectors for normals.
    """
    return get_task(task).to_prediction(out)
