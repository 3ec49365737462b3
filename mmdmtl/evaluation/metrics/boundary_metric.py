"""Boundary detection odsF / oisF / AP (BSDS / SEISM protocol)."""
from typing import Any, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.logging import print_log

from mmdmtl.registry import METRICS

from ..functional.boundary import boundary_counts, boundary_scores, hed_thresholds
from .base_task_metric import BaseTaskMetric


@METRICS.register_module()
class BoundaryMetric(BaseTaskMetric):
    """Boundary F-measures in pure numpy/scipy: ``edge/odsF``, ``edge/oisF``,
    ``edge/AP`` (percent).

    Follows the Berkeley benchmark / SEISM evaluation the multi-task papers
    run in MATLAB: per threshold the probability map is binarised, thinned
    (``bwmorph thin``), and its pixels are matched one-to-one to ground-truth
    boundary pixels within ``max_dist`` x image diagonal; ODS pools the
    counts of all images per threshold, OIS takes each image's best
    threshold, AP integrates the precision-recall curve. See
    :mod:`mmdmtl.evaluation.functional.boundary` for the algorithm and its
    documented differences to the MATLAB tool.

    Predictions are evaluated at the original resolution. With ``quantize``
    they are first truncated to 8 bit (``uint8(255 * p) / 255``) like the
    PNGs the MATLAB tool reads. Ground-truth pixels equal to ``ignore_index``
    (e.g. padding) are removed from both maps. A NaN / inf prediction at a
    pixel that is not ignored makes odsF, oisF and AP NaN (a NaN is below
    every threshold and would otherwise score as a free true negative) and is
    reported in a warning (see :class:`BaseTaskMetric`). This is the slowest metric
    (about 1-2 s per 288x384 image with 99 thresholds on one CPU core); use
    fewer thresholds for quick validation during training.

    Args:
        max_dist: Matching tolerance as a fraction of the image diagonal
            (0.0075 for PASCAL-Context, 0.011 for NYUD-v2).
        thresholds: Number of HED thresholds ``k / (n + 1)`` or an explicit
            increasing sequence.
        thin: Thin the binarised predictions.
        quantize: Truncate predictions to 8 bit first.
        ignore_index: Ground-truth value to ignore.
        task: Task name (``'edge'``).
        collect_device: ``'cpu'`` or ``'gpu'``.
        prefix: Key prefix (default: the task name).

    Example:
        >>> val_evaluator = dict(type='BoundaryMetric', max_dist=0.0075)
        >>> # -> {'edge/odsF': ..., 'edge/oisF': ..., 'edge/AP': ...}
    """

    metric_names = ('odsF', 'oisF', 'AP')

    def __init__(self,
                 max_dist: float = 0.0075,
                 thresholds: Union[int, Sequence[float]] = 99,
                 thin: bool = True,
                 quantize: bool = True,
                 ignore_index: int = 255,
                 task: str = 'edge',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(task, collect_device=collect_device, prefix=prefix)
        if not self.task_spec.is_binary:
            raise ValueError(f'BoundaryMetric evaluates a binary task, not {task!r}')
        if not 0 < max_dist < 1:
            raise ValueError(f'max_dist is a fraction of the image diagonal, got {max_dist}')
        self.max_dist = float(max_dist)
        if isinstance(thresholds, int):
            self.thresholds = hed_thresholds(thresholds)
        else:
            self.thresholds = np.asarray(thresholds, dtype=np.float64)
            if self.thresholds.ndim != 1 or np.any(np.diff(self.thresholds) <= 0):
                raise ValueError('thresholds must be an int or an increasing 1-D sequence')
        self.thin = thin
        self.quantize = quantize
        self.ignore_index = ignore_index

    def sample_statistics(self, pred: torch.Tensor, gt: torch.Tensor, sample: Any) -> np.ndarray:
        """``(T, 5)`` int64: the counts ``cntR, sumR, cntP, sumP`` of one
        image and (repeated on every row) the number of non-ignored pixels
        with a non-finite prediction."""
        g = gt.reshape(gt.shape[-2:]).numpy()
        p = pred.reshape(gt.shape[-2:]).double().numpy()
        ignore = g == self.ignore_index
        nonfinite = int((~np.isfinite(p) & ~ignore).sum())
        if self.quantize:
            p = np.floor(np.clip(p, 0.0, 1.0) * 255.0) / 255.0
        counts = boundary_counts(p, (g == 1) & ~ignore, self.thresholds, self.max_dist,
                                 self.thin, ignore if ignore.any() else None)
        return np.concatenate([counts, np.full((len(counts), 1), nonfinite, np.int64)], axis=1)

    def nonfinite_pixels(self, entry: np.ndarray) -> int:
        """Non-ignored pixels with a non-finite predicted probability."""
        return int(entry[0, 4]) if len(entry) else 0

    def summarize(self, results: List[np.ndarray]) -> dict:
        """ODS / OIS F and AP in percent (NaN if a prediction is not finite)."""
        counts = np.stack(results) if results else np.zeros((0, self.thresholds.size, 5))
        if counts[..., 4].any():
            nan = float('nan')
            return dict(odsF=nan, oisF=nan, AP=nan)
        scores = boundary_scores(counts[..., :4], self.thresholds)
        if results:
            print_log(f'{self.prefix}: ODS at threshold {scores["ods_threshold"]:.3f} '
                      f'(R={scores["odsR"]:.2f}, P={scores["odsP"]:.2f})', logger='current')
        return dict(odsF=scores['odsF'], oisF=scores['oisF'], AP=scores['AP'])
