"""Transforms that :class:`~mmdmtl.apis.MTLInferencer` puts into the
config's test pipeline: loading a path *or* an array, and fitting the image
into the network's input size.

Like mmseg's ``InferencerLoader``, :class:`MTLInferencerLoader` replaces the
pipeline's :class:`~.loading.LoadMultiTaskImage` so that the same pipeline
takes file paths (read by ``LoadMultiTaskImage`` with the config's arguments)
and ``H x W x 3`` BGR arrays (mapped by the same value rules).
"""
from typing import Optional, Sequence

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform

from mmdmtl.registry import TRANSFORMS

from .image_values import image_to_uint8
from .loading import LoadMultiTaskImage


@TRANSFORMS.register_module()
class MTLInferencerLoader(BaseTransform):
    """Load an inference input given as a file path or an array.

    Required keys: ``img_path`` (a file), or ``img`` (an ``H x W x 3`` BGR
    array of any dtype) and ``input_index`` (its position in the inputs,
    used in messages and as the pseudo path ``array_<index>``).
    Added keys: ``img`` (``uint8`` BGR), ``img_path``, ``img_shape``,
    ``ori_shape``, ``seg_fields`` (empty).

    Arrays follow the rules of files (:func:`~.image_values.image_to_uint8`):
    ``uint8`` as is, other integers by their dtype's range, floats times
    ``float_scale``; NaN / inf pixels become 0 with a warning naming
    ``input array #<index>``.

    Args:
        **kwargs: :class:`~.loading.LoadMultiTaskImage` arguments
            (``float_scale``, ``nonfinite``, ``npy_channel_order``, ...).

    Raises:
        ValueError: an array that is not ``H x W x 3``.
    """

    def __init__(self, **kwargs) -> None:
        self.file_loader = LoadMultiTaskImage(**kwargs)

    def transform(self, results: dict) -> dict:
        """Load ``results['img_path']`` or convert ``results['img']``."""
        results = dict(results)
        results.setdefault('seg_fields', [])
        img = results.get('img')
        if img is None:
            return self.file_loader(results)
        index = results.get('input_index', 0)
        img = np.asarray(img)
        if img.ndim != 3 or img.shape[2] != 3:
            raise ValueError(f'input #{index}: expected an HxWx3 BGR array, '
                             f'got shape {img.shape}')
        loader = self.file_loader
        img = image_to_uint8(img, f'input array #{index}', loader.float_scale,
                             loader.nonfinite)
        if loader.to_float32:
            img = img.astype(np.float32)
        results.update(img=img, img_path=results.get('img_path', f'array_{index}'),
                       img_shape=img.shape[:2], ori_shape=img.shape[:2])
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}({self.file_loader!r})'


@TRANSFORMS.register_module()
class MTLResizeToFit(BaseTransform):
    """Resize the image, keeping its aspect ratio, to the largest size that
    fits into ``size`` (bilinear). The model's predictions are resized back
    to ``ori_shape`` by the segmentor.

    Unlike mmcv's ``Resize(keep_ratio=True)`` (long / short edge rule) the
    fit is per axis: ``ratio = min(h_max / h, w_max / w)``, so a portrait
    image never exceeds the height. Only the image is resized (inference
    has no targets). An image that already fits exactly is left as is.

    Required keys: ``img``. Modified keys: ``img``, ``img_shape``.
    Added keys: ``scale_factor`` (``(ratio, ratio)``) when resized.

    Args:
        size: ``(h, w)`` to fit into (mmseg's ``crop_size`` order).
    """

    def __init__(self, size: Sequence[int]) -> None:
        if len(size) != 2 or min(size) < 1:
            raise ValueError(f'MTLResizeToFit: size must be (h, w) >= 1, got {size!r}')
        self.size = (int(size[0]), int(size[1]))

    def transform(self, results: dict) -> Optional[dict]:
        """Resize ``results['img']`` into :attr:`size`."""
        h, w = results['img'].shape[:2]
        sh, sw = self.size
        ratio = min(sh / h, sw / w)
        if abs(ratio - 1) > 1e-6:
            results['img'] = mmcv.imresize(
                results['img'], (max(1, round(w * ratio)), max(1, round(h * ratio))),
                interpolation='bilinear')
            results['img_shape'] = results['img'].shape[:2]
            results['scale_factor'] = (ratio, ratio)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(size={self.size})'
