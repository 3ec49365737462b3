"""Partial-label loss normalisation of DiffusionMTL."""
from typing import Mapping

import torch
from torch import Tensor

from mmdmtl.tasks import TaskTable

#: Default loss per task, ``{task: loss config}``: each task's
#: ``default_loss`` (official weights: semseg 1, parts 2, sal 5, edge 50,
#: normal 10; depth 1 as the same lab's NYUD configs). A live view.
DEFAULT_TASK_LOSSES: Mapping[str, dict] = TaskTable(lambda t: [(t.name, t.default_loss)])


def partial_label_sample_weights(task_mask: Tensor, scale_by_labels: bool = True) -> Tensor:
    """Per-sample loss weights of the official partial-label scheme.

    Each sample's summed task losses are multiplied by ``T / n_b`` (``T``
    tasks, ``n_b`` of them labelled for sample ``b``) and divided by the
    batch size ``B`` -- *including* samples without any label, as the
    official code divides by the local batch size.

    Args:
        task_mask: (B, T) bool, labelled (sample, task) pairs.
        scale_by_labels: Apply the ``T / n_b`` factor (False: plain sum of
            the labelled tasks' losses, as MTPSL).

    Returns:
        (B,) float weights; 0 for samples without labels.
    """
    b, t = task_mask.shape
    n = task_mask.sum(dim=1).to(torch.float32)
    if scale_by_labels:
        w = torch.where(n > 0, t / n.clamp(min=1.0), torch.zeros_like(n))
    else:
        w = (n > 0).to(torch.float32)
    return w / max(b, 1)
