"""Packing of multi-task samples into :class:`SegDataSample`."""
from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmdmtl.registry import TRANSFORMS
from mmdmtl.structures.tasks import TASK_MASK_KEY, TASKS

DEFAULT_META_KEYS = ('img_path', 'seg_map_path', 'depth_map_path', 'normal_map_path',
                     'edge_map_path', 'sal_map_path', 'parts_map_path', 'img_id',
                     'sample_idx', 'ori_shape', 'img_shape', 'pad_shape', 'scale_factor',
                     'flip', 'flip_direction', 'reduce_zero_label', 'tasks', TASK_MASK_KEY)


@TRANSFORMS.register_module()
class PackMTLInputs(BaseTransform):
    """Pack the image, every task target and the task mask.

    Output ``dict(inputs=CHW uint8 tensor, data_samples=SegDataSample)``
    where, for every task whose ``results_key`` is present, the data sample
    gets ``PixelData`` at the task's ``gt_field``: ``(1, H, W)`` ``int64``
    for semseg / parts / sal / edge, ``(1, H, W)`` ``float32`` for depth,
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

        data_sample = SegDataSample()
        packed_tasks = []
        for name, spec in TASKS.items():
            if results.get(spec.results_key) is None:
                continue
            arr = np.asarray(results[spec.results_key])
            if spec.name == 'normal':
                if arr.ndim != 3 or arr.shape[-1] != 3:
                    raise ValueError(f'{spec.results_key} must be (H, W, 3), got '
                                     f'{arr.shape} (sample index {results.get("sample_idx")})')
                data = torch.from_numpy(np.ascontiguousarray(
                    arr.transpose(2, 0, 1), dtype=np.float32))
            else:
                if arr.ndim == 3 and arr.shape[-1] == 1:
                    arr = arr[..., 0]
                if arr.ndim != 2:
                    raise ValueError(f'{spec.results_key} must be (H, W), got {arr.shape} '
                                     f'(sample index {results.get("sample_idx")})')
                dtype = np.float32 if spec.is_float else np.int64
                data = torch.from_numpy(np.ascontiguousarray(arr, dtype=dtype))[None]
            data_sample.set_data({spec.gt_field: PixelData(data=data)})
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
