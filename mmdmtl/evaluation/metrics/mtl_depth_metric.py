"""Depth errors pooled over all valid pixels of the set."""
from typing import Any, List, Optional

import numpy as np
import torch

from mmdmtl.registry import METRICS
from mmdmtl.tasks import DepthTask

from ..functional.depth import (
    DEPTH_DISC_NAMES,
    DEPTH_DISC_STAT_KEYS,
    DEPTH_METRIC_NAMES,
    DEPTH_STAT_KEYS,
    depth_metrics_from_statistics,
    depth_statistics,
)
from ..functional.discontinuity import check_disc_args, discontinuity_mask
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

    With ``disc_width`` (pixels), three more keys split ``absErr`` at the
    ground truth's discontinuities (adjacent depths differing by more than
    ``disc_threshold`` of the nearer one, dilated by ``disc_width``; see
    :mod:`mmdmtl.evaluation.functional.discontinuity`) from the rest:
    ``absErr_at_disc``, ``absErr_off_disc`` and ``disc_pct`` (percent of
    valid pixels at them).

    Args:
        min_depth: Optional minimum valid ground-truth depth.
        max_depth: Optional maximum valid ground-truth depth.
        pred_min: Lower clamp of predictions.
        disc_width: Dilation (pixels) of the discontinuities; None (default):
            no split.
        disc_threshold: Relative depth jump between adjacent pixels that
            makes a discontinuity.
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
                 disc_width: Optional[int] = None,
                 disc_threshold: float = 0.05,
                 task: str = 'depth',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(task, collect_device=collect_device, prefix=prefix)
        if not isinstance(self.task_spec, DepthTask):
            raise ValueError(f'MTLDepthMetric evaluates depth, not {task!r}')
        self.min_depth = min_depth
        self.max_depth = max_depth
        self.pred_min = pred_min
        check_disc_args(disc_width, disc_threshold, 'disc_width', 'disc_threshold')
        self.disc_width = disc_width
        self.disc_threshold = float(disc_threshold)
        if disc_width is not None:
            self.metric_names = DEPTH_METRIC_NAMES + DEPTH_DISC_NAMES

    def sample_statistics(self, pred: torch.Tensor, gt: torch.Tensor, sample: Any) -> np.ndarray:
        """Summed errors, valid-pixel and non-finite-prediction counts of one
        image (float64, ordered as ``DEPTH_STAT_KEYS``), followed with
        ``disc_width`` by its ``DEPTH_DISC_STAT_KEYS``."""
        gt = gt.float()
        disc = None if self.disc_width is None else discontinuity_mask(
            gt.reshape(1, *gt.shape[-2:]), 'depth', self.disc_threshold, int(self.disc_width))
        return depth_statistics(pred.reshape(gt.shape).float(), gt, self.min_depth,
                                self.max_depth, self.pred_min, disc=disc)

    def nonfinite_pixels(self, entry: np.ndarray) -> int:
        """Valid pixels with a non-finite predicted depth."""
        return int(entry[DEPTH_STAT_KEYS.index('nonfinite')])

    def summarize(self, results: List[np.ndarray]) -> dict:
        """Pooled metrics from the summed statistics."""
        width = len(DEPTH_STAT_KEYS) + (0 if self.disc_width is None else len(DEPTH_DISC_STAT_KEYS))
        stats = np.sum(results, axis=0) if results else np.zeros(width)
        return depth_metrics_from_statistics(stats)
