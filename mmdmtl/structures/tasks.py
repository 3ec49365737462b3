"""The dense prediction tasks mmdmtl knows, and how each travels through the
pipeline.

This module is the single contract between datasets, transforms, packing, the
data preprocessor, the decode heads, the losses, the metrics and the
visualizer. Every place that needs to know "which key holds the depth map" or
"what marks an invalid normal" asks :func:`get_task` instead of hard-coding it.

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
from dataclasses import dataclass
from typing import Dict, Iterable, List, Sequence, Tuple

#: Metainfo key holding ``{task_name: bool}`` of labelled tasks of a sample.
TASK_MASK_KEY = 'task_mask'


@dataclass(frozen=True)
class TaskSpec:
    """Static description of one dense prediction task.

    Attributes:
        name: Short task name used in configs (``'semseg'``, ``'depth'``...).
        kind: One of ``'segmentation'`` (multi-class labels),
            ``'binary'`` (per-pixel probability, e.g. edges or saliency),
            ``'depth'`` (positive scalar) or ``'normal'`` (unit 3-vector).
        results_key: Key of the target in the transform pipeline's dict.
        gt_field: Field name of the packed ground truth in a data sample.
        pred_field: Field name of the prediction in a data sample.
        path_key: Key holding the target's file path in a data info dict.
        invalid_value: Value that marks an invalid / unlabelled pixel; used
            as padding and for targets of unlabelled tasks.
        gt_channels: Channels of the packed ground truth.
        is_float: Whether the ground truth is a float map (else int64).
        higher_is_better: Direction of the task's headline metric.
    """
    name: str
    kind: str
    results_key: str
    gt_field: str
    pred_field: str
    path_key: str
    invalid_value: float
    gt_channels: int = 1
    is_float: bool = False
    higher_is_better: bool = True

    @property
    def is_label_map(self) -> bool:
        """True for tasks whose targets are integer label maps."""
        return not self.is_float


TASKS: Dict[str, TaskSpec] = {
    'semseg':
    TaskSpec('semseg', 'segmentation', 'gt_seg_map', 'gt_sem_seg',
             'pred_sem_seg', 'seg_map_path', 255),
    'parts':
    TaskSpec('parts', 'segmentation', 'gt_parts_map', 'gt_parts_map',
             'pred_parts_map', 'parts_map_path', 255),
    'sal':
    TaskSpec('sal', 'binary', 'gt_sal_map', 'gt_sal_map', 'pred_sal_map',
             'sal_map_path', 255),
    'edge':
    TaskSpec('edge', 'binary', 'gt_edge_map', 'gt_edge_map', 'pred_edge_map',
             'edge_map_path', 255),
    'depth':
    TaskSpec('depth', 'depth', 'gt_depth_map', 'gt_depth_map',
             'pred_depth_map', 'depth_map_path', 0.0, is_float=True,
             higher_is_better=False),
    'normal':
    TaskSpec('normal', 'normal', 'gt_normal_map', 'gt_normal_map',
             'pred_normal_map', 'normal_map_path', 0.0, gt_channels=3,
             is_float=True, higher_is_better=False),
}


def get_task(name: str) -> TaskSpec:
    """Return the :class:`TaskSpec` of ``name``.

    Raises:
        KeyError: naming the unknown task and the known ones.
    """
    try:
        return TASKS[name]
    except KeyError:
        raise KeyError(f'Unknown task {name!r}; known tasks are '
                       f'{sorted(TASKS)}') from None


def check_tasks(tasks: Iterable[str],
                available: Sequence[str] = None,
                where: str = '') -> Tuple[str, ...]:
    """Validate a list of task names.

    Args:
        tasks: Task names requested (e.g. by a config).
        available: If given, the tasks a dataset provides; every requested
            task must be among them.
        where: Text naming the caller, used in error messages.

    Returns:
        The tasks as a tuple, in the given order.

    Raises:
        KeyError: for an unknown or unavailable task, or duplicates.
    """
    tasks = tuple(tasks)
    prefix = f'{where}: ' if where else ''
    if len(tasks) == 0:
        raise KeyError(f'{prefix}at least one task is required')
    if len(set(tasks)) != len(tasks):
        raise KeyError(f'{prefix}duplicate task names in {list(tasks)}')
    for t in tasks:
        if t not in TASKS:
            raise KeyError(f'{prefix}unknown task {t!r}; known tasks are '
                           f'{sorted(TASKS)}')
        if available is not None and t not in available:
            raise KeyError(f'{prefix}task {t!r} is not provided by this '
                           f'dataset; it provides {list(available)}')
    return tasks


def task_results_keys(tasks: Iterable[str]) -> List[str]:
    """The transform-results keys of ``tasks``, in order."""
    return [get_task(t).results_key for t in tasks]
