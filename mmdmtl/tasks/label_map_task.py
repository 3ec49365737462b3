"""Tasks whose target is a map of class labels (semseg, human parts)."""
from typing import List, Optional, Tuple

import numpy as np
import torch
from torch import Tensor

from .base_task import BaseTask


class LabelMapTask(BaseTask):
    """Multi-class labels: ``(H, W)`` ``uint8`` targets with 255 = ignore,
    class logits as head output, their argmax as prediction, mIoU."""

    kind = 'segmentation'
    invalid_value = 255
    channels_are_classes = True
    headline_metric = 'mIoU'
    metric_directions = {'aAcc': True, 'mIoU': True, 'mAcc': True}

    @property
    def classes_key(self) -> str:  # type: ignore[override]
        """``dataset_meta`` key of the class names: ``<task>_classes``."""
        return f'{self.name}_classes'

    @property
    def default_metric(self) -> dict:  # type: ignore[override]
        """``MTLIoUMetric`` of this task."""
        return dict(type='MTLIoUMetric', task=self.name)

    def load(self, path: str, results: dict, backend_args: Optional[dict] = None,
             **options) -> Optional[np.ndarray]:
        """``.mat`` -> :meth:`decode_mat`; label images / ``.npy`` ->
        :meth:`decode_labels`."""
        from mmdmtl.datasets.transforms.annotation_readers import read_file
        what, idx = f'{self.name} ground-truth', results.get('sample_idx')
        if path.lower().endswith('.mat'):
            return self.decode_mat(read_file(path, what, idx, backend_args), path)
        arr = read_file(path, what, idx, backend_args, label_image=True)
        return self.decode_labels(arr, path, results)

    def decode_labels(self, arr: np.ndarray, path: str, results: dict) -> np.ndarray:
        """A label image -> ``(H, W)`` ``uint8`` (:func:`decode_label`)."""
        from mmdmtl.datasets.transforms.annotation_readers import decode_label
        return decode_label(arr, path)

    def decode_mat(self, mat: dict, path: str) -> Optional[np.ndarray]:
        """A ``.mat`` file -> labels (default: its PASCAL-Context
        ``LabelMap``)."""
        from mmdmtl.datasets.transforms.annotation_readers import (
            decode_label,
            decode_label_map_mat,
        )
        return decode_label(decode_label_map_mat(mat, path), path)

    def random_target(self, channels, shape, generator=None) -> Tensor:
        """Uniform random class labels."""
        return torch.randint(0, channels, (1, *shape), generator=generator)

    def to_prediction(self, out: Tensor) -> Tensor:
        """Class logits -> ``(1, H, W)`` ``int64`` labels (argmax)."""
        return out.argmax(dim=-3, keepdim=True)

    def constant_statistics(self, gt: Tensor) -> np.ndarray:
        """Class histogram of the valid pixels."""
        return np.bincount(gt[gt != self.invalid_value].long().numpy(), minlength=1)

    def constant_from_statistics(self, stats: List[np.ndarray]) -> Optional[np.ndarray]:
        """The most frequent class."""
        size = max((len(h) for h in stats), default=0)
        total = sum((np.pad(h, (0, size - len(h))) for h in stats), np.zeros(size, np.int64))
        return np.array(int(total.argmax())) if size and total.sum() else None

    def constant_prediction(self, value: np.ndarray, shape) -> Tensor:
        """A ``(1, H, W)`` ``int64`` map of the class ``value``."""
        return torch.full((1, int(shape[-2]), int(shape[-1])), int(value), dtype=torch.long)

    def draw(self, visualizer, data: np.ndarray, image: np.ndarray,
             vrange: Optional[Tuple[float, float]] = None) -> np.ndarray:
        """Class colours blended over ``image``; ignored pixels hatched."""
        return visualizer.draw_label_map(data, image, self.invalid_value, self.palette_key)
