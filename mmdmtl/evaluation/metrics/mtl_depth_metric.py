"""Depth errors pooled over all valid pixels of the set."""
from typing import Any, List, Optional

import numpy as np
import torch

from mmdmtl.registry import METRICS
from mmdmtl.tasks import DepthTask

from ..functional.depth import (
    DEPTH_METRIC_NAMES,
    DEPTH_STAT_KEYS,
    depth_metrics_from_statistics,
    depth_statistics,
)
from .base_task_metric import BaseTaskMetric


@METRICS.register_module()
class MTLDepthMetric(BaseTaskMetric):
    """Monocular depth metrics pooled over **all valid pixels of the set**.

    This is the protocol of DiffusionMTL's ``DepthMeter`` and MTPSL, whose
    numbers the paper reports (``absErr`` for NYUD-v2 and Cityscapes).
    mmseg's ``DepthMetric`` averages per image instead and is not comparable.

    Keys (with the default prefix): ``depth/absErr`` (headline), ``rmse``,
    ``abs_rel``, ``sq_rel``, ``log_rmse`` (natural log), ``d1``, ``d2``,
    ``d3`` (fractions). Invalid ground truth (0, NaN, inf and, if given,
    outside ``[min_depth, max_depth]``) is masked; predictions are clamped to
    at least ``pred_min`` before every metric (DiffusionMTL clamps ``<= 0``
    to 1e-9). A NaN / inf prediction at a valid pixel makes every depth
    metric NaN and is reported in a warning (see :class:`BaseTaskMetric`).

    Args:
        min_depth: Optional minimum valid ground-truth depth.
        max_depth: Optional maximum valid ground-truth depth.
        pred_min: Lower clamp of predictions.
        task: Task name (``'depth'``).
        collect_device: ``'cpu'`` or ``'gpu'``.
        prefix: Key prefix (default: the task name).

    Example:
        >>> val_evaluator = dict(type='MTLDepthMetric')
        >>> # -> {'depth/absErr': ..., 'depth/rmse': ..., ...}
    """

    metric_names = DEPTH_METRIC_NAMES

    def __init__(self,
                 min_depth: Optional[float] = None,
                 max_depth: Optional[float] = None,
                 pred_min: float = 1e-9,
                 task: str = 'depth',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(task, collect_device=collect_device, prefix=prefix)
        if not isinstance(self.task_spec, DepthTask):
            raise ValueError(f'MTLDepthMetric evaluates depth, not {task!r}')
        self.min_depth = min_depth
        self.max_depth = max_depth
        self.pred_min = pred_min

    def sample_statistics(self, pred: torch.Tensor, gt: torch.Tensor, sample: Any) -> np.ndarray:
        """Summed errors, valid-pixel and non-finite-prediction counts of one
        image (float64, ordered as ``DEPTH_STAT_KEYS``)."""
        return depth_statistics(pred.reshape(gt.shape).float(), gt.float(), self.min_depth,
                                self.max_depth, self.pred_min)

    def nonfinite_pixels(self, entry: np.ndarray) -> int:
        """Valid pixels with a non-finite predicted depth."""
        return int(entry[DEPTH_STAT_KEYS.index('nonfinite')])

    def summarize(self, results: List[np.ndarray]) -> dict:
        """Pooled metrics from the summed statistics."""
        stats = np.sum(results, axis=0) if results else np.zeros(len(DEPTH_STAT_KEYS))
        return depth_metrics_from_statistics(stats)
