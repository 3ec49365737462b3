"""Geometric transforms that treat every task target correctly.

mmseg's ``Resize`` / ``RandomCrop`` / ``RandomFlip`` already process every
key in ``results['seg_fields']`` with nearest-neighbour interpolation, which
is right for label maps and keeps depth values metric. What they get wrong
for multi-task data, and what these subclasses fix:

* :class:`MTLResize` re-normalises normal maps after resizing (a no-op for
  the default nearest interpolation; needed with ``normal_interpolation=
  'bilinear'``) and never rescales depth values.
* :class:`MTLRandomResize` is mmcv's ``RandomResize`` building
  :class:`MTLResize`.
* :class:`MTLRandomCrop` only applies ``cat_max_ratio`` when the sample's
  semantic labels are present and labelled.
* :class:`MTLRandomFlip` negates the x (horizontal flip) / y (vertical flip)
  component of surface normals.
* :class:`MTLPad` (deprecated: :class:`~mmdmtl.models.MTLDataPreProcessor`
  pads images and targets, as mmseg 1.x) pads every target with its task's
  pad value (mmcv's ``Pad`` pads only ``gt_seg_map``).
"""
import warnings
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms import RandomResize as MMCV_RandomResize
from mmseg.datasets.transforms import RandomCrop, RandomFlip, Resize

from mmdmtl.registry import TRANSFORMS
from mmdmtl.structures.tasks import TASK_MASK_KEY, TASKS, get_task
from mmdmtl.tasks import BaseTask


def _targets(results: dict) -> Dict[str, BaseTask]:
    """``{results key: task}`` of the task targets in ``seg_fields``."""
    by_key = {task.results_key: task for task in TASKS.values()}
    return {k: by_key[k] for k in results.get('seg_fields', [])
            if k in by_key and results.get(k) is not None}


@TRANSFORMS.register_module()
class MTLResize(Resize):
    """Resize the image and every task target.

    Targets use nearest-neighbour interpolation (label maps stay labels,
    depth values stay metric: resizing never scales depth), except normals
    when ``normal_interpolation`` is ``'bilinear'``; normals are re-normalised
    afterwards (zero vectors stay zero): each task repairs its resized
    target (:meth:`~mmdmtl.tasks.BaseTask.after_resize`). Arguments as
    mmseg's ``Resize``.

    Args:
        normal_interpolation: ``'nearest'`` (default) or ``'bilinear'``:
            the smooth interpolation offered to tasks that support it
            (normals).
            Bilinear normals are masked to pixels whose nearest-neighbour
            source was valid, so invalid regions do not bleed in.
        **kwargs: mmseg ``Resize`` arguments (``scale``, ``scale_factor``,
            ``keep_ratio``, ``interpolation`` for the image, ...).
    """

    def __init__(self, *args, normal_interpolation: str = 'nearest', **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if normal_interpolation not in ('nearest', 'bilinear'):
            raise ValueError('normal_interpolation must be nearest or bilinear')
        self.normal_interpolation = normal_interpolation

    def _resize_seg(self, results: dict) -> None:
        targets = _targets(results)
        sources = {key: results[key] for key in targets}
        super()._resize_seg(results)
        for key, task in targets.items():
            results[key] = task.after_resize(results[key], sources[key],
                                             self.normal_interpolation, self.backend)


@TRANSFORMS.register_module()
class MTLRandomResize(MMCV_RandomResize):
    """mmcv ``RandomResize`` that builds :class:`MTLResize` by default.

    Example:
        >>> dict(type='MTLRandomResize', scale=(128, 96),
        ...      ratio_range=(0.75, 1.25), keep_ratio=True)
    """

    def __init__(self,
                 scale: Union[Tuple[int, int], Sequence[Tuple[int, int]]],
                 ratio_range: Optional[Tuple[float, float]] = None,
                 resize_type: str = 'MTLResize',
                 **resize_kwargs) -> None:
        # same state as mmcv's RandomResize, but built from mmseg's registry
        # so that it works with or without a default scope
        self.scale = scale
        self.ratio_range = ratio_range
        self.resize_cfg = dict(type=resize_type, **resize_kwargs)
        self.resize = TRANSFORMS.build({'scale': 0, **self.resize_cfg})


@TRANSFORMS.register_module()
class MTLRandomCrop(RandomCrop):
    """mmseg ``RandomCrop`` over all targets, partial-label aware.

    ``cat_max_ratio < 1`` (re-draw crops dominated by one class) looks at
    ``gt_seg_map`` only when the sample's semseg is labelled; otherwise the
    first random crop is used. Images smaller than ``crop_size`` give a
    smaller crop (the data preprocessor pads the batch: set its ``size`` to
    the crop size).
    """

    def __init__(self,
                 crop_size: Union[int, Sequence[int]],
                 cat_max_ratio: float = 1.,
                 ignore_index: int = 255) -> None:
        if not isinstance(crop_size, int):
            crop_size = tuple(int(c) for c in crop_size)
        super().__init__(crop_size, cat_max_ratio, ignore_index)

    def crop_bbox(self, results: dict) -> tuple:
        seg_key = get_task('semseg').results_key
        labelled = results.get(TASK_MASK_KEY, {}).get('semseg', True)
        if self.cat_max_ratio < 1. and (seg_key not in results or not labelled):
            saved = self.cat_max_ratio
            self.cat_max_ratio = 1.
            try:
                return super().crop_bbox(results)
            finally:
                self.cat_max_ratio = saved
        return super().crop_bbox(results)


@TRANSFORMS.register_module()
class MTLRandomFlip(RandomFlip):
    """mmseg ``RandomFlip`` that also flips surface-normal vectors.

    Every ``seg_fields`` map is mirrored, then each task changes the values
    of its target as a flip does (:meth:`~mmdmtl.tasks.BaseTask.flip_target`):
    in ``gt_normal_map`` a horizontal flip negates the x component (channel
    0), a vertical flip the y component (channel 1) and a diagonal flip both. Arguments as mmcv's
    ``RandomFlip`` (``prob``, ``direction``, ``swap_seg_labels``).
    """

    def _flip(self, results: dict) -> None:
        super()._flip(results)
        for key, task in _targets(results).items():
            results[key] = task.flip_target(results[key], results['flip_direction'])


@TRANSFORMS.register_module()
class MTLPad(BaseTransform):
    """Pad the image and every target at the bottom / right (deprecated).

    Deprecated: :class:`~mmdmtl.models.MTLDataPreProcessor` pads training
    images and every task target, as mmseg 1.x does; drop this step from the
    pipeline and set ``model.data_preprocessor.size`` to the crop size (the
    preprocessor pads images before normalisation, with the same values as
    this transform). Kept so that old configs still run; it warns once per
    construction.

    The image is padded with ``pad_val``; every target in ``seg_fields``
    with its task's invalid value (255 for label maps, edges and saliency,
    0 for depth, the zero vector for normals); ``seg_fields`` keys that are
    no task target use ``seg_pad_val``.

    Meant for training pipelines (fixed batch shapes). At test time let
    :class:`~mmdmtl.models.MTLDataPreProcessor` pad, so that predictions can
    be un-padded.

    Args:
        size: ``(h, w)`` to pad to (images larger than ``size`` stay as they
            are).
        size_divisor: Pad height and width up to multiples of this.
        pad_val: Image padding value.
        seg_pad_val: Fill for non-task ``seg_fields`` keys.

    Added keys: ``pad_shape``, ``pad_fixed_size``, ``pad_size_divisor``.
    """

    def __init__(self,
                 size: Optional[Sequence[int]] = None,
                 size_divisor: Optional[int] = None,
                 pad_val: Union[int, float] = 0,
                 seg_pad_val: Union[int, float] = 255) -> None:
        if (size is None) == (size_divisor is None):
            raise ValueError('MTLPad needs exactly one of size and size_divisor')
        warnings.warn('MTLPad is deprecated: MTLDataPreProcessor pads images and every '
                      'task target; remove MTLPad from the pipeline and set '
                      'model.data_preprocessor.size to the crop size', DeprecationWarning,
                      stacklevel=2)
        self.size = None if size is None else (int(size[0]), int(size[1]))
        self.size_divisor = size_divisor
        self.pad_val = pad_val
        self.seg_pad_val = seg_pad_val

    @staticmethod
    def _pad(arr: np.ndarray, h: int, w: int, value) -> np.ndarray:
        ph, pw = h - arr.shape[0], w - arr.shape[1]
        if ph <= 0 and pw <= 0:
            return arr
        width = [(0, max(ph, 0)), (0, max(pw, 0))] + [(0, 0)] * (arr.ndim - 2)
        return np.pad(arr, width, mode='constant', constant_values=value)

    def transform(self, results: dict) -> dict:
        """Pad ``img`` and every ``seg_fields`` entry."""
        img = results['img']
        h, w = img.shape[:2]
        if self.size is not None:
            th, tw = max(self.size[0], h), max(self.size[1], w)
        else:
            d = int(self.size_divisor)
            th, tw = -(-h // d) * d, -(-w // d) * d
        results['img'] = self._pad(img, th, tw, self.pad_val)
        by_key = {task.results_key: task for task in TASKS.values()}
        for key in results.get('seg_fields', []):
            if results.get(key) is None:
                continue
            task = by_key.get(key)
            value = task.pad_value if task else self.seg_pad_val
            results[key] = self._pad(results[key], th, tw, value)
        results['pad_shape'] = results['img'].shape[:2]
        results['pad_fixed_size'] = self.size
        results['pad_size_divisor'] = self.size_divisor
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(size={self.size}, '
                f'size_divisor={self.size_divisor}, pad_val={self.pad_val})')
