"""Semantic segmentation / human-parts mIoU for one task of a multi-task
model."""
from typing import Any, List, Optional, Sequence

import numpy as np
import torch
from mmengine.logging import print_log
from mmseg.evaluation import IoUMetric
from prettytable import PrettyTable

from mmdmtl.registry import METRICS
from mmdmtl.tasks import TaskTable

from .base_task_metric import BaseTaskMetric

#: dataset_meta key holding the class names of each label-map task (each
#: task's ``classes_key``; a live view).
DEFAULT_CLASSES_KEYS = TaskTable(lambda t: [(t.name, t.classes_key)] if t.classes_key else [])


@METRICS.register_module()
class MTLIoUMetric(BaseTaskMetric):
    """mIoU / aAcc / mAcc (percent) over the whole set for ``semseg`` or
    ``parts``.

    Intersections and unions are accumulated per class over all pixels of
    the set with mmseg's :meth:`IoUMetric.intersect_and_union` and turned
    into scores with :meth:`IoUMetric.total_area_to_metrics`, as mmseg does.
    Differences to plain ``IoUMetric``: the prediction and ground truth are
    read from the task's own fields, ground truth outside ``[0,
    num_classes)`` is ignored like ``ignore_index`` (DiffusionMTL's valid
    mask), areas are accumulated in float64 (exact for any set size),
    unlabelled samples are skipped and keys are prefixed with the task.

    A class absent from both ground truth and predictions of the whole set
    has an undefined IoU that mmseg drops from the mean (``nan_to_num=None``);
    DiffusionMTL's meter counts it as 0, which ``nan_to_num=0`` reproduces.
    On the standard test sets every class occurs, so both agree.

    Args:
        task: ``'semseg'`` or ``'parts'``.
        num_classes: Number of classes; by default the length of
            ``dataset_meta[classes_key]``, else ``dataset_meta['task_channels'][task]``.
        ignore_index: Ground-truth value to ignore.
        classes_key: ``dataset_meta`` key with class names (default
            ``'classes'`` for semseg, ``'parts_classes'`` for parts).
        nan_to_num: Replace undefined per-class scores by this value.
        collect_device: ``'cpu'`` or ``'gpu'``.
        prefix: Key prefix (default: the task name).

    Example:
        >>> val_evaluator = dict(type='MTLIoUMetric', task='semseg')
        >>> # -> {'semseg/mIoU': ..., 'semseg/aAcc': ..., 'semseg/mAcc': ...}
    """

    metric_names = ('aAcc', 'mIoU', 'mAcc')

    def __init__(self,
                 task: str = 'semseg',
                 num_classes: Optional[int] = None,
                 ignore_index: int = 255,
                 classes_key: Optional[str] = None,
                 nan_to_num: Optional[float] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(task, collect_device=collect_device, prefix=prefix)
        if not self.task_spec.channels_are_classes:
            raise ValueError(f'MTLIoUMetric evaluates label-map tasks (semseg, parts), '
                             f'not {task!r}')
        self._num_classes = num_classes
        self.ignore_index = ignore_index
        self.classes_key = classes_key or self.task_spec.classes_key
        self.nan_to_num = nan_to_num

    def class_names(self) -> Optional[Sequence[str]]:
        """Class names from ``dataset_meta`` if available."""
        meta = self.dataset_meta or {}
        names = meta.get(self.classes_key)
        return list(names) if names else None

    @property
    def num_classes(self) -> int:
        """The number of classes (argument, class names or task_channels)."""
        if self._num_classes is not None:
            return int(self._num_classes)
        names = self.class_names()
        if names:
            return len(names)
        channels = (self.dataset_meta or {}).get('task_channels', {}).get(self.task)
        if channels:
            return int(channels)
        raise ValueError(f'MTLIoUMetric({self.task!r}): pass num_classes or use a dataset '
                         f'whose metainfo has {self.classes_key!r} or task_channels')

    def sample_statistics(self, pred: torch.Tensor, gt: torch.Tensor, sample: Any) -> np.ndarray:
        """``(4, C)`` float64: intersection, union, predicted and gt areas."""
        c = self.num_classes
        pred = pred.squeeze().long()
        gt = gt.squeeze().long().to(pred.device)
        gt = torch.where((gt >= 0) & (gt < c), gt, torch.full_like(gt, self.ignore_index))
        areas = IoUMetric.intersect_and_union(pred, gt, c, self.ignore_index)
        return torch.stack(areas).double().numpy()

    def summarize(self, results: List[np.ndarray]) -> dict:
        """aAcc, mIoU and mAcc in percent; a per-class table is logged."""
        if not results:
            return dict(aAcc=float('nan'), mIoU=float('nan'), mAcc=float('nan'))
        total = torch.from_numpy(np.sum(results, axis=0))
        per_class = IoUMetric.total_area_to_metrics(
            total[0], total[1], total[2], total[3], ['mIoU'], self.nan_to_num)
        with np.errstate(invalid='ignore'):
            metrics = dict(
                aAcc=float(np.asarray(per_class['aAcc']) * 100),
                mIoU=float(np.nanmean(per_class['IoU']) * 100),
                mAcc=float(np.nanmean(per_class['Acc']) * 100))
        names = self.class_names() or [str(i) for i in range(self.num_classes)]
        table = PrettyTable()
        table.add_column('Class', list(names)[:len(per_class['IoU'])])
        table.add_column('IoU', np.round(per_class['IoU'] * 100, 2).tolist())
        table.add_column('Acc', np.round(per_class['Acc'] * 100, 2).tolist())
        print_log(f'{self.prefix} per class results:\n' + table.get_string(), logger='current')
        return metrics
