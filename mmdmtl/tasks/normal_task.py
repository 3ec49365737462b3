"""Surface normal estimation."""
from typing import List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from mmdmtl.registry import TASKS

from .base_task import FLIP_AXES, BaseTask


@TASKS.register_module('normal')
class NormalTask(BaseTask):
    """Surface normals: ``(H, W, 3)`` ``float32`` unit vectors with the zero
    vector = invalid; a horizontal flip negates x, a vertical flip y; the
    output is normalised into the prediction; mean angular error (degrees).

    Files: ``.npy`` in [-1, 1] or 8 / 16-bit RGB images ``2 * v / max - 1``;
    PASCAL keeps normals only on the dataset's ``normal_valid_classes`` of
    the ``normal_label_map_path`` label map.
    """

    name = 'normal'
    kind = 'normal'
    invalid_value = 0.0
    gt_channels = 3
    is_float = True
    headline_metric = 'mean'
    metric_directions = {'mean': False, 'median': False, 'rmse': False, 'a11.25': True,
                         'a22.5': True, 'a30': True}
    default_loss = dict(type='NormalL1Loss', loss_weight=10.0)
    default_metric = dict(type='SurfaceNormalMetric')
    published_names = ('normals', 'normal')

    def load(self, path: str, results: dict, backend_args: Optional[dict] = None,
             **options) -> Optional[np.ndarray]:
        """Normal file -> unit vectors (:func:`decode_normal`), masked to the
        valid classes when the dataset gives them."""
        from mmdmtl.datasets.transforms.annotation_readers import (
            decode_label_map_mat,
            decode_normal,
            read_file,
        )
        idx = results.get('sample_idx')
        arr = read_file(path, 'normal ground-truth', idx, backend_args, channel_order='rgb')
        normal = decode_normal(arr, path)
        valid_classes = results.get('normal_valid_classes')
        lm_path = results.get('normal_label_map_path')
        if valid_classes is not None and lm_path:
            mat = read_file(lm_path, 'normal validity label-map', idx, backend_args)
            lm = decode_label_map_mat(mat, lm_path)
            if lm.shape != normal.shape[:2]:
                raise ValueError(
                    f'label map {lm_path} has shape {lm.shape} but normal map '
                    f'{path} has {normal.shape[:2]} (sample index {idx})')
            keep = np.isin(lm, np.asarray(list(valid_classes)))
            normal = np.where(keep[..., None], normal, 0).astype(np.float32)
        return normal

    def flip_signs(self, direction: str) -> Tuple[float, ...]:
        """-1 on x for horizontal, y for vertical, both for diagonal flips."""
        if direction not in FLIP_AXES:
            raise ValueError(f'unknown flip_direction {direction!r}')
        return tuple(-1.0 if c in FLIP_AXES[direction] else 1.0 for c in range(3))

    def after_resize(self, resized: np.ndarray, source: np.ndarray, interpolation: str,
                     backend: Optional[str] = None) -> np.ndarray:
        """Re-normalise; with ``'bilinear'`` interpolate smoothly, masked to
        pixels whose nearest-neighbour source was valid."""
        from mmdmtl.datasets.transforms.annotation_readers import normalize_normals
        if interpolation == 'bilinear':
            import mmcv
            h, w = resized.shape[:2]
            smooth = mmcv.imresize(source, (w, h), interpolation='bilinear', backend=backend)
            valid = np.any(resized != 0, axis=-1, keepdims=True)
            resized = np.where(valid, smooth, 0.0)
        return normalize_normals(resized)

    def random_target(self, channels, shape, generator=None) -> Tensor:
        """Random unit vectors."""
        return F.normalize(torch.randn(3, *shape, generator=generator), dim=0)

    def to_prediction(self, out: Tensor) -> Tensor:
        """Unnormalised vectors -> unit vectors."""
        return F.normalize(out, dim=-3, eps=1e-12)

    def valid_mask(self, gt: Tensor) -> Tensor:
        """Non-zero vectors."""
        return gt.norm(dim=-3) > 0

    def constant_statistics(self, gt: Tensor) -> np.ndarray:
        """Sum of the valid vectors."""
        return gt[:, self.valid_mask(gt)].double().sum(1).numpy()

    def constant_from_statistics(self, stats: List[np.ndarray]) -> Optional[np.ndarray]:
        """The normalised mean vector."""
        total = np.zeros(3)
        for s in stats:  # in sample order, as the float64 sum was always taken
            total = total + s
        norm = np.linalg.norm(total)
        return (total / norm).astype(np.float32) if norm > 0 else None

    def draw(self, visualizer, data: np.ndarray, image: np.ndarray,
             vrange: Optional[Tuple[float, float]] = None) -> np.ndarray:
        """RGB = ``(n + 1) / 2``; zero vectors hatched."""
        return visualizer.draw_vector_map(data)


