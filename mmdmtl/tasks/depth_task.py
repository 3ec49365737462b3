"""Monocular depth estimation."""
from typing import List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from mmdmtl.registry import TASKS

from .base_task import BaseTask


@TASKS.register_module('depth')
class DepthTask(BaseTask):
    """Depth in metres: ``(H, W)`` ``float32`` targets with 0 = invalid
    (NaN / inf / negative file values too), ``softplus`` keeps the output
    positive, absErr as headline metric.

    Files: ``.npy`` or 16-bit images, multiplied by the dataset's
    ``depth_scale`` (e.g. 1e-3 for millimetre PNGs).
    """

    name = 'depth'
    kind = 'depth'
    invalid_value = 0.0
    is_float = True
    headline_metric = 'absErr'
    metric_directions = {'absErr': False, 'rmse': False, 'abs_rel': False, 'sq_rel': False,
                         'log_rmse': False, 'd1': True, 'd2': True, 'd3': True}
    default_loss = dict(type='DepthL1Loss', loss_weight=1.0)
    default_metric = dict(type='MTLDepthMetric')
    published_names = ('depth', )
    optional_activation = True
    unit = 'm'
    report_decimals = 4

    def load(self, path: str, results: dict, backend_args: Optional[dict] = None,
             **options) -> Optional[np.ndarray]:
        """Depth file -> metres (:func:`decode_depth`)."""
        from mmdmtl.datasets.transforms.annotation_readers import decode_depth, read_file
        arr = read_file(path, 'depth ground-truth', results.get('sample_idx'), backend_args)
        return decode_depth(arr, path, float(results.get('depth_scale', 1.0)))

    def random_target(self, channels, shape, generator=None) -> Tensor:
        """Depths uniform in [0.5, 4.5] m."""
        return 0.5 + 4 * torch.rand(1, *shape, generator=generator)

    def activate(self, raw: Tensor) -> Tensor:
        """``softplus``: depth is always positive."""
        return F.softplus(raw)

    def valid_mask(self, gt: Tensor) -> Tensor:
        """Finite, strictly positive depth."""
        return (torch.isfinite(gt) & (gt > 0)).all(dim=-3)

    def constant_statistics(self, gt: Tensor) -> np.ndarray:
        """The valid depth values."""
        return gt[torch.isfinite(gt) & (gt > 0)].numpy()

    def constant_from_statistics(self, stats: List[np.ndarray]) -> Optional[np.ndarray]:
        """The median valid depth."""
        if not sum(len(d) for d in stats):
            return None
        return np.array(np.median(np.concatenate(stats)), dtype=np.float32)

    def value_range(self, gt: Optional[np.ndarray],
                    pred: Optional[np.ndarray]) -> Tuple[float, float]:
        """The valid (finite, > 0) range of the ground truth, else of the
        prediction, else (0, 1)."""
        for arr in (gt, pred):
            if arr is None:
                continue
            v = arr[np.isfinite(arr) & (arr > 0)]
            if v.size:
                return float(v.min()), float(max(v.max(), v.min() + 1e-3))
        return 0.0, 1.0

    def draw(self, visualizer, data: np.ndarray, image: np.ndarray,
             vrange: Optional[Tuple[float, float]] = None) -> np.ndarray:
        """A colour map over ``vrange``; invalid (<= 0, non-finite) hatched."""
        if vrange is None:
            vrange = self.value_range(None, data)
        return visualizer.draw_colour_map(data, vrange, invalid=~np.isfinite(data) | (data <= 0))
