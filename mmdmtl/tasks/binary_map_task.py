"""Tasks whose target is a per-pixel binary label (saliency, edges)."""
from typing import List, Optional, Tuple

import numpy as np
import torch
from torch import Tensor

from .base_task import BaseTask


class BinaryMapTask(BaseTask):
    """Binary maps: ``(H, W)`` ``uint8`` 0/1 targets with 255 = ignore, one
    logit as head output, its sigmoid probability as prediction.

    Target files are thresholded at ``threshold`` (reader option) after
    scaling 0/255 images to [0, 1].
    """

    kind = 'binary'
    invalid_value = 255
    is_binary = True

    def load(self, path: str, results: dict, backend_args: Optional[dict] = None,
             threshold: float = 0.5, **options) -> Optional[np.ndarray]:
        """Image / ``.npy`` map -> 0/1 (:func:`decode_binary`)."""
        from mmdmtl.datasets.transforms.annotation_readers import decode_binary, read_file
        arr = read_file(path, f'{self.name} ground-truth', results.get('sample_idx'),
                        backend_args, label_image=True)
        return decode_binary(arr, path, threshold)

    def random_target(self, channels, shape, generator=None) -> Tensor:
        """About 20 % positive pixels."""
        return (torch.rand(1, *shape, generator=generator) > 0.8).long()

    def to_prediction(self, out: Tensor) -> Tensor:
        """Logit -> probability (sigmoid)."""
        return out.sigmoid()

    def constant_statistics(self, gt: Tensor) -> Tuple[int, int]:
        """(positive, valid) pixel counts."""
        valid = gt != self.invalid_value
        return int((gt[valid] > 0).sum()), int(valid.sum())

    def constant_from_statistics(self, stats: List[Tuple[int, int]]) -> Optional[np.ndarray]:
        """The positive-pixel rate as a probability."""
        pos, n = (sum(s[i] for s in stats) for i in (0, 1))
        return np.array(pos / n, dtype=np.float32) if n else None

    def draw(self, visualizer, data: np.ndarray, image: np.ndarray,
             vrange: Optional[Tuple[float, float]] = None) -> np.ndarray:
        """A grey map of the probability (or 0/1 label)."""
        return visualizer.draw_grey_map(data, self.invalid_value)
