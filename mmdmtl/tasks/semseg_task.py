"""Semantic segmentation."""
from typing import Optional

import numpy as np

from mmdmtl.registry import TASKS

from .label_map_task import LabelMapTask


@TASKS.register_module('semseg')
class SemsegTask(LabelMapTask):
    """Semantic segmentation, stored in mmseg's own fields (``gt_seg_map``,
    ``gt_sem_seg``, ``pred_sem_seg``, ``seg_logits``, ``seg_map_path``,
    dataset ``palette``).

    Files: label images (``reduce_zero_label`` and ``label_map`` of the
    dataset applied), ``.npy`` with -1 = ignore, PASCAL-Context ``.mat``
    ``LabelMap``.
    """

    name = 'semseg'
    default_loss = dict(type='MTLCrossEntropyLoss', loss_weight=1.0)
    published_names = ('semseg', 'semantic', 'segmentation')
    logits_field = 'seg_logits'
    results_key = 'gt_seg_map'  # type: ignore[assignment]
    gt_field = 'gt_sem_seg'  # type: ignore[assignment]
    pred_field = 'pred_sem_seg'  # type: ignore[assignment]
    path_key = 'seg_map_path'  # type: ignore[assignment]
    palette_key = 'palette'  # type: ignore[assignment]

    def load(self, path: str, results: dict, backend_args: Optional[dict] = None,
             **options) -> Optional[np.ndarray]:
        """Label map -> ``(H, W)`` ``uint8`` (:func:`decode_label`)."""
        from mmdmtl.datasets.transforms.annotation_readers import (
            decode_label,
            decode_label_map_mat,
            read_file,
        )
        what, idx = 'semseg ground-truth', results.get('sample_idx')
        if path.lower().endswith('.mat'):
            return decode_label(decode_label_map_mat(read_file(path, what, idx, backend_args),
                                                     path), path)
        arr = read_file(path, what, idx, backend_args, label_image=True)
        return decode_label(arr, path, bool(results.get('reduce_zero_label', False)),
                            results.get('label_map'))
