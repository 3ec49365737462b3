"""Convert decoded image pixels of any dtype to the ``uint8`` range.

OpenCV and numpy hand images over in many dtypes; the network expects
``uint8`` values in [0, 255]. :func:`image_to_uint8` maps each dtype by its
range instead of clipping (clipping turned 16-bit images all white):

* ``uint8``: unchanged;
* ``bool``: 0 / 255;
* other unsigned integers (16-bit PNG / TIFF, ...): scaled by the dtype's
  range, ``v * 255 / max`` (``uint16``: ``v * 255 / 65535``), rounded;
* signed integers (e.g. an ``int64`` ``.npy`` of 8-bit values, a 16-bit
  signed TIFF): used as they are when every value lies in [0, 255],
  refused otherwise (their range is unknown);
* floats: multiplied by ``float_scale`` (255 maps the MTAN ``.npy``
  convention [0, 1] to [0, 255]; use 1 for floats in [0, 255]); values
  more than :data:`FLOAT_RANGE_TOLERANCE` outside the range are refused,
  and NaN / infinite pixels become 0 with an :class:`ImageValueWarning`
  naming the file and the count (or an error with ``nonfinite='error'``).
"""
import warnings

import numpy as np

from .annotation_readers import AnnotationReadError

#: How far (in 8-bit levels) scaled float values may leave [0, 255] before
#: the image is refused (rounding and resampling overshoot).
FLOAT_RANGE_TOLERANCE = 1.0
NONFINITE_MODES = ('warn', 'error')


class ImageValueWarning(UserWarning):
    """Pixel values of an input image were changed (e.g. NaN set to 0)."""


def image_to_uint8(img: np.ndarray,
                   source: str,
                   float_scale: float = 255.0,
                   nonfinite: str = 'warn') -> np.ndarray:
    """Map the pixel values of ``img`` to ``uint8`` by its dtype's range.

    Args:
        img: Decoded image, any shape, any numeric dtype.
        source: What the image is (file path, ``'input array #3'``); named
            in warnings and errors.
        float_scale: Multiplier of float images (255: [0, 1] -> [0, 255]).
        nonfinite: ``'warn'`` (NaN / inf pixels -> 0, one warning per
            image naming ``source`` and the count) or ``'error'``.

    Returns:
        ``uint8`` array of the same shape.

    Raises:
        AnnotationReadError: the values do not fit the dtype's documented
            range, NaN / inf pixels with ``nonfinite='error'``, or an
            unsupported dtype (complex, object, ...); names ``source``.
    """
    if nonfinite not in NONFINITE_MODES:
        raise ValueError(f'nonfinite must be one of {NONFINITE_MODES}, got {nonfinite!r}')
    img = np.asarray(img)
    kind = img.dtype.kind
    if img.dtype == np.uint8:
        return img
    if kind == 'b':
        return img.astype(np.uint8) * np.uint8(255)
    if kind == 'u':
        top = float(np.iinfo(img.dtype).max)
        return np.round(img.astype(np.float64) * (255.0 / top)).astype(np.uint8)
    if kind == 'i':
        if img.size and (int(img.min()) < 0 or int(img.max()) > 255):
            raise AnnotationReadError(
                f'image {source}: signed integer pixels ({img.dtype}) in '
                f'[{int(img.min())}, {int(img.max())}]; only [0, 255] is accepted '
                f'for signed integer images (their full range is unknown): '
                f'convert the file to uint8 / uint16 or to float in [0, 1]')
        return img.astype(np.uint8)
    if kind == 'f':
        return _float_to_uint8(img, source, float_scale, nonfinite)
    raise AnnotationReadError(
        f'image {source}: unsupported pixel dtype {img.dtype}; expected unsigned '
        f'or signed integers, bool or floats')


def _float_to_uint8(img: np.ndarray, source: str, float_scale: float,
                    nonfinite: str) -> np.ndarray:
    if img.dtype.itemsize < 4:  # float16: compute in float32
        img = img.astype(np.float32)
    if img.size == 0:
        return img.astype(np.uint8)
    lo, hi = float(img.min()), float(img.max())  # NaN / inf show up here
    if not (np.isfinite(lo) and np.isfinite(hi)):
        finite = np.isfinite(img)
        bad_px = ~finite.all(axis=-1) if img.ndim == 3 else ~finite
        n_bad, n_px = int(bad_px.sum()), int(bad_px.size)
        msg = (f'image {source}: {n_bad} of {n_px} pixels are NaN or infinite')
        if nonfinite == 'error':
            raise AnnotationReadError(msg)
        warnings.warn(f'{msg}; they are set to 0 (black)', ImageValueWarning,
                      stacklevel=3)
        img = np.where(finite, img, img.dtype.type(0))
        lo, hi = float(img.min()), float(img.max())
    scale = float(float_scale)
    if lo * scale < -FLOAT_RANGE_TOLERANCE or hi * scale > 255 + FLOAT_RANGE_TOLERANCE:
        raise AnnotationReadError(
            f'image {source}: float pixels in [{lo:.4g}, {hi:.4g}] do not fit '
            f'[0, {255 / scale:.4g}] (float images are multiplied by '
            f'float_scale={scale:g} to reach [0, 255]; set float_scale=1 for '
            f'floats in [0, 255], or rescale the file)')
    scaled = img * img.dtype.type(scale)  # float32 stays float32 (speed)
    return np.clip(np.round(scaled), 0, 255).astype(np.uint8)
