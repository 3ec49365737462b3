"""Saliency maxF (beta^2 = 0.3) pooled over the set."""
from typing import Any, List, Optional

import numpy as np
import torch
from mmengine.logging import print_log

from mmdmtl.registry import METRICS

from ..functional.saliency import saliency_max_f, saliency_statistics, saliency_thresholds
from .base_task_metric import BaseTaskMetric


@METRICS.register_module()
class SaliencyMetric(BaseTaskMetric):
    """Saliency maxF in percent (``sal/maxF``), the PASCAL-Context protocol.

    True positives, predicted positives and actual positives of all valid
    pixels of the set are summed per threshold (``arange(0.05, 1, 0.05)`` on
    the predicted probability, positive when ``prob >= t``), and the best
    ``F_beta`` with ``beta^2 = 0.3`` is reported.

    The released DiffusionMTL / InvPT meters apply a sigmoid to the
    already-normalised probability (so thresholds <= 0.5 select every pixel
    and the effective thresholds are ``logit(t)``). That quirk is **not**
    reproduced by default; ``sigmoid_quirk=True`` reproduces it.

    A NaN / inf predicted probability at a valid pixel makes ``maxF`` NaN
    (a NaN is below every threshold and would otherwise score as a free
    true negative) and is reported in a warning (see :class:`BaseTaskMetric`).

    Args:
        beta_sq: ``beta^2`` of the F-measure.
        threshold_step: Step of the thresholds ``arange(step, 1, step)``.
        ignore_index: Ground-truth value to ignore.
        sigmoid_quirk: Reproduce the reference meters' double sigmoid.
        task: Task name (``'sal'``).
        collect_device: ``'cpu'`` or ``'gpu'``.
        prefix: Key prefix (default: the task name).

    Example:
        >>> val_evaluator = dict(type='SaliencyMetric')  # -> {'sal/maxF': ...}
    """

    metric_names = ('maxF',)

    def __init__(self,
                 beta_sq: float = 0.3,
                 threshold_step: float = 0.05,
                 ignore_index: int = 255,
                 sigmoid_quirk: bool = False,
                 task: str = 'sal',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(task, collect_device=collect_device, prefix=prefix)
        if not self.task_spec.is_binary:
            raise ValueError(f'SaliencyMetric evaluates a binary task, not {task!r}')
        self.beta_sq = beta_sq
        self.thresholds = saliency_thresholds(threshold_step)
        self.ignore_index = ignore_index
        self.sigmoid_quirk = sigmoid_quirk

    def sample_statistics(self, pred: torch.Tensor, gt: torch.Tensor, sample: Any) -> np.ndarray:
        """``(T, 5)`` counts: TP, predicted positives, actual positives, valid,
        non-finite predictions."""
        return saliency_statistics(pred.reshape(gt.shape), gt, self.thresholds,
                                   self.ignore_index, self.sigmoid_quirk)

    def nonfinite_pixels(self, entry: np.ndarray) -> int:
        """Valid pixels with a non-finite predicted probability."""
        return int(entry[0, 4]) if len(entry) else 0

    def summarize(self, results: List[np.ndarray]) -> dict:
        """maxF in percent over the summed counts."""
        counts = np.sum(results, axis=0) if results else np.zeros((0, 5))
        out = saliency_max_f(counts, self.beta_sq)
        if out['best'] >= 0:
            print_log(f'{self.prefix}: maxF at threshold '
                      f'{float(self.thresholds[out["best"]]):.2f}', logger='current')
        return dict(maxF=out['maxF'])
