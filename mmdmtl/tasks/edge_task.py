"""Semantic boundary (edge) detection."""
from typing import Optional

import numpy as np

from mmdmtl.registry import TASKS

from .binary_map_task import BinaryMapTask


@TASKS.register_module('edge')
class EdgeTask(BinaryMapTask):
    """Edges: 0/255 images or 0/1 ``.npy`` thresholded at 0.5, or derived
    from a PASCAL-Context ``.mat`` ``LabelMap``; odsF / oisF / AP."""

    name = 'edge'
    headline_metric = 'odsF'
    metric_directions = {'odsF': True, 'oisF': True, 'AP': True}
    default_loss = dict(type='BalancedBCELoss', pos_weight=0.95, loss_weight=50.0)
    default_metric = dict(type='BoundaryMetric')
    published_names = ('edge', 'boundary')

    def load(self, path: str, results: dict, backend_args: Optional[dict] = None,
             threshold: float = 0.5, **options) -> Optional[np.ndarray]:
        """``.mat`` label map -> its boundaries; else a thresholded map."""
        if not path.lower().endswith('.mat'):
            return super().load(path, results, backend_args, threshold)
        from mmdmtl.datasets.transforms.annotation_readers import (
            decode_edge_from_label_map,
            read_file,
        )
        mat = read_file(path, 'edge ground-truth', results.get('sample_idx'), backend_args)
        return decode_edge_from_label_map(mat, path)
