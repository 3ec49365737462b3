"""Surface-normal angular errors pooled over all valid pixels of the set."""
from typing import Any, List, Optional

import torch

from mmdmtl.registry import METRICS
from mmdmtl.tasks import NormalTask

from ..functional.discontinuity import check_disc_args, discontinuity_mask
from ..functional.normal import (
    NORMAL_DISC_NAMES,
    NORMAL_METRIC_NAMES,
    normal_metrics_from_statistics,
    normal_statistics,
)
from .base_task_metric import BaseTaskMetric


@METRICS.register_module()
class SurfaceNormalMetric(BaseTaskMetric):
    """Angular error of surface normals (degrees), pooled over the set.

    Predictions are L2-normalised; the angle is ``2 atan2(|p-g|, |p+g|)``
    (numerically stable, equal to ``acos(p . g)``); a pixel is valid when its
    ground-truth vector has a positive, finite norm.

    Keys (default prefix ``normal``): ``mean`` (the paper's mErr),
    ``median``, ``rmse``, ``a11.25``, ``a22.5``, ``a30`` (percent of valid
    pixels with an error below the threshold).

    The median over all pixels of the set comes from a sparse histogram with
    ``bin_width`` degrees per bin (per image only non-empty bins are kept),
    so it is **within ``bin_width / 2`` of the exact median** (0.005° by
    default) with memory bounded by the number of distinct bins.
    ``exact_median=True`` keeps every angle instead (exact; memory grows with
    the number of pixels, for small sets only).

    A predicted vector with a NaN / inf component at a valid pixel has no
    angle: it makes **every** statistic (mean, median, rmse, a11.25, a22.5,
    a30) NaN, and a warning gives the number of such pixels and names the
    first sample (see :class:`BaseTaskMetric`). A zero predicted vector is
    finite and scores 90°.

    Note:
        MTPSL's logged "median" column is actually an RMSE and its valid mask
        is ``sum(gt) != 0``; DiffusionMTL reports only the mean.

    With ``disc_width`` (pixels), three more keys split the mean error at
    the ground truth's discontinuities (adjacent normals more than
    ``disc_threshold`` degrees apart, dilated by ``disc_width``; see
    :mod:`mmdmtl.evaluation.functional.discontinuity`) from the rest:
    ``mean_at_disc``, ``mean_off_disc`` and ``disc_pct`` (percent of valid
    pixels at them). E.g. where a refinement helps: at boundaries, which a
    coarse first stage blurs, or inside smooth regions.

    Args:
        bin_width: Histogram bin width (degrees) for the median.
        exact_median: Keep all angles and compute the exact median.
        disc_width: Dilation (pixels) of the discontinuities; None (default):
            no split.
        disc_threshold: Angle (degrees) between adjacent ground-truth normals
            that makes a discontinuity.
        task: Task name (``'normal'``).
        collect_device: ``'cpu'`` or ``'gpu'``.
        prefix: Key prefix (default: the task name).

    Example:
        >>> val_evaluator = dict(type='SurfaceNormalMetric')
        >>> # -> {'normal/mean': ..., 'normal/median': ..., ...}
    """

    metric_names = NORMAL_METRIC_NAMES

    def __init__(self,
                 bin_width: float = 0.01,
                 exact_median: bool = False,
                 disc_width: Optional[int] = None,
                 disc_threshold: float = 10.0,
                 task: str = 'normal',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(task, collect_device=collect_device, prefix=prefix)
        if not isinstance(self.task_spec, NormalTask):
            raise ValueError(f'SurfaceNormalMetric evaluates normals, not {task!r}')
        if not 0 < bin_width <= 180:
            raise ValueError(f'bin_width must be in (0, 180], got {bin_width}')
        check_disc_args(disc_width, disc_threshold, 'disc_width', 'disc_threshold')
        self.bin_width = float(bin_width)
        self.exact_median = exact_median
        self.disc_width = disc_width
        self.disc_threshold = float(disc_threshold)
        if disc_width is not None:
            self.metric_names = NORMAL_METRIC_NAMES + NORMAL_DISC_NAMES

    def sample_statistics(self, pred: torch.Tensor, gt: torch.Tensor, sample: Any) -> dict:
        """Sums, threshold counts and the sparse angle histogram of one image
        (and the sums at / off its discontinuities with ``disc_width``)."""
        disc = None if self.disc_width is None else discontinuity_mask(
            gt, 'normal', self.disc_threshold, int(self.disc_width))
        return normal_statistics(pred.float(), gt.float(), self.bin_width, self.exact_median,
                                 disc=disc)

    def nonfinite_pixels(self, entry: dict) -> int:
        """Valid pixels whose predicted vector is not finite."""
        return int(entry.get('nonfinite', 0))

    def summarize(self, results: List[dict]) -> dict:
        """Pooled mean / median / rmse / within-threshold percentages."""
        return normal_metrics_from_statistics(results, self.bin_width, self.exact_median)
