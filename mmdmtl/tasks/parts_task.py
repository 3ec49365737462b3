"""Human part segmentation (PASCAL-Part, 6 parts + background)."""
from typing import Optional

import numpy as np

from mmdmtl.registry import TASKS

from .label_map_task import LabelMapTask


@TASKS.register_module('parts')
class PartsTask(LabelMapTask):
    """Human parts. Files: PASCAL-Part ``.mat`` (images without an annotated
    person give no label) or label images / ``.npy``."""

    name = 'parts'
    default_loss = dict(type='MTLCrossEntropyLoss', loss_weight=2.0)
    published_names = ('human_parts', 'parts')

    def load(self, path: str, results: dict, backend_args: Optional[dict] = None,
             **options) -> Optional[np.ndarray]:
        """``.mat`` -> :func:`decode_pascal_parts`; else :func:`decode_label`."""
        from mmdmtl.datasets.transforms.annotation_readers import (
            decode_label,
            decode_pascal_parts,
            read_file,
        )
        what, idx = 'parts ground-truth', results.get('sample_idx')
        if path.lower().endswith('.mat'):
            return decode_pascal_parts(read_file(path, what, idx, backend_args), path)
        return decode_label(read_file(path, what, idx, backend_args, label_image=True), path)
