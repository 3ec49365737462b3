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

    def decode_mat(self, mat: dict, path: str) -> Optional[np.ndarray]:
        """PASCAL-Part annotation -> 6 parts (:func:`decode_pascal_parts`);
        ``None`` without an annotated person."""
        from mmdmtl.datasets.transforms.annotation_readers import decode_pascal_parts
        return decode_pascal_parts(mat, path)
