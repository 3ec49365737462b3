"""Semantic segmentation."""
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
    classes_key = 'classes'  # type: ignore[assignment]

    def decode_labels(self, arr: np.ndarray, path: str, results: dict) -> np.ndarray:
        """Label image with the dataset's ``reduce_zero_label`` and
        ``label_map`` applied."""
        from mmdmtl.datasets.transforms.annotation_readers import decode_label
        return decode_label(arr, path, bool(results.get('reduce_zero_label', False)),
                            results.get('label_map'))
