"""The dense prediction tasks mmdmtl knows, and how each travels through the
pipeline.

Each task is a registered class (:mod:`mmdmtl.tasks`); this module keeps the
names older code imports (``get_task``, ``check_tasks``, ``TASKS``,
``TaskSpec``) as thin wrappers around :mod:`mmdmtl.tasks`.

Keys per task (``results`` = the transform pipeline's dict, ``gt``/``pred`` =
fields of :class:`mmseg.structures.SegDataSample`):

============  ===============  ================  ===========  =============
task          results key      gt field          pred field   invalid value
============  ===============  ================  ===========  =============
semseg        gt_seg_map       gt_sem_seg        pred_sem_seg 255
parts         gt_parts_map     gt_parts_map      pred_parts_map 255
sal           gt_sal_map       gt_sal_map        pred_sal_map 255
edge          gt_edge_map      gt_edge_map       pred_edge_map 255
depth         gt_depth_map     gt_depth_map      pred_depth_map 0.0
normal        gt_normal_map    gt_normal_map     pred_normal_map (0, 0, 0)
============  ===============  ================  ===========  =============

Ground truth in the results dict is ``(H, W)`` (``(H, W, 3)`` for normals);
packed into the data sample it is ``(1, H, W)`` (``(3, H, W)`` for normals),
``int64`` for label-like tasks and ``float32`` for depth and normals.
Predictions in the data sample are ``(1, H, W)`` labels for ``semseg``/
``parts``, ``(1, H, W)`` probabilities in [0, 1] for ``sal``/``edge``,
``(1, H, W)`` metres for ``depth`` and ``(3, H, W)`` unit vectors for
``normal``.

Per-sample partial labels travel in the metainfo key :data:`TASK_MASK_KEY`:
a ``dict`` mapping each task name of the sample to ``True`` (labelled) or
``False`` (unlabelled, its target is all-invalid).
"""
from typing import Iterable, List, Mapping

from mmdmtl.tasks import ALL_TASKS, BaseTask, check_tasks, get_task

from .mtl_data_sample import TASK_MASK_KEY

#: Former name of the task description; the task objects are
#: :class:`mmdmtl.tasks.BaseTask` instances.
TaskSpec = BaseTask

#: ``{name: task object}`` of every registered task (a live view).
TASKS: Mapping[str, BaseTask] = ALL_TASKS


def task_results_keys(tasks: Iterable[str]) -> List[str]:
    """The transform-results keys of ``tasks``, in order."""
    return [get_task(t).results_key for t in tasks]


__all__ = ['TASK_MASK_KEY', 'TASKS', 'TaskSpec', 'check_tasks', 'get_task', 'task_results_keys']
