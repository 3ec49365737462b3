"""Packing of multi-task samples into :class:`~mmdmtl.structures.MTLDataSample`."""
from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from mmdmtl.registry import TRANSFORMS
from mmdmtl.structures import TASK_MASK_KEY, TASKS, MTLDataSample

DEFAULT_META_KEYS = ('img_path', 'seg_map_path', 'depth_map_path', 'normal_map_path',
                     'edge_map_path', 'sal_map_path', 'parts_map_path', 'img_id',
                     'sample_idx', 'ori_shape', 'img_shape', 'pad_shape', 'scale_factor',
                     'flip', 'flip_direction', 'reduce_zero_label', 'tasks', TASK_MASK_KEY)


@TRANSFORMS.register_module()
class PackMTLInputs(BaseTransform):
    """Pack the image, every task target and the task mask.

    Output ``dict(inputs=CHW uint8 tensor, data_samples=MTLDataSample)``
    where, for every task whose ``results_key`` is present, the data sample
    gets ``PixelData`` at the task's ``gt_field`` as the task packs it
    (:meth:`~mmdmtl.tasks.BaseTask.pack`): ``(1, H, W)`` ``int64`` for
    semseg / parts / sal / edge, ``(1, H, W)`` ``float32`` for depth,
    ``(3, H, W)`` ``float32`` for normals. The metainfo carries
    ``task_mask`` (``{task: bool}``; all ``True`` for packed targets when
    the pipeline gave none) plus ``meta_keys`` found in ``results``.

    Args:
        meta_keys: Keys copied into the data sample's metainfo when present.
    """

    def __init__(self, meta_keys: Sequence[str] = DEFAULT_META_KEYS) -> None:
        self.meta_keys = tuple(meta_keys)
        if TASK_MASK_KEY not in self.meta_keys:
            self.meta_keys += (TASK_MASK_KEY,)

    def transform(self, results: dict) -> dict:
        """Pack ``results`` into ``inputs`` and ``data_samples``."""
        packed = dict()
        if 'img' in results:
            img = results['img']
            if img.ndim < 3:
                img = img[..., None]
            packed['inputs'] = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))

        data_sample = MTLDataSample()
        packed_tasks = []
        for name, spec in TASKS.items():
            if results.get(spec.results_key) is None:
                continue
            data = spec.pack(results[spec.results_key],
                             f'(sample index {results.get("sample_idx")})')
            data_sample.set_gt(name, data)
            packed_tasks.append(name)

        meta = {k: results[k] for k in self.meta_keys if k in results}
        mask = dict(results.get(TASK_MASK_KEY) or {})
        for name in packed_tasks:
            mask.setdefault(name, True)
        if mask:
            meta[TASK_MASK_KEY] = {k: bool(v) for k, v in mask.items()}
        data_sample.set_metainfo(meta)
        packed['data_samples'] = data_sample
        return packed

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'
