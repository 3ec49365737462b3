"""Readers and decoders for the on-disk formats of multi-task datasets.

Every decoder returns the pipeline representation of the task contract
(:mod:`mmdmtl.structures.tasks`): ``(H, W)`` ``uint8`` label maps with 255 =
ignore for semseg / parts / sal / edge, ``(H, W)`` ``float32`` metres with 0 =
invalid for depth, ``(H, W, 3)`` ``float32`` unit vectors with the zero vector
= invalid for normals.

Formats handled (chosen by file extension):

* ``.npy`` (MTAN / MTPSL NYUv2 and Cityscapes, ATRC depth): float arrays;
  labels use -1 for ignore, depth 0 for invalid, normals in [-1, 1].
* ``.png`` / ``.jpg`` (ATRC NYUD and PASCAL): ``uint8`` label maps
  (optionally ``reduce_zero_label``), 0/255 saliency and edge maps, normals
  encoded as ``2 * v / 255 - 1`` in RGB order, 16-bit depth PNGs.
* ``.mat`` (PASCAL): human parts (``anno`` struct of PASCAL-Part, see
  :func:`decode_pascal_parts`) and PASCAL-Context ``LabelMap`` (used for
  edges, see :mod:`.edge_utils`).
"""
import io
import os.path as osp
from typing import Dict, Optional

import mmcv
import numpy as np
from mmengine import fileio

from .edge_utils import label_map_to_edges

IGNORE = 255

#: PASCAL-Part person part names -> the 6 human-part classes used by
#: ASTMT / ATRC / DiffusionMTL (0 = background).
PASCAL_PART_GROUPS: Dict[int, tuple] = {
    1: ('hair', 'head', 'lear', 'lebrow', 'leye', 'mouth', 'nose', 'rear',
        'rebrow', 'reye'),  # head
    2: ('neck', 'torso'),  # torso
    3: ('luarm', 'ruarm'),  # upper arms
    4: ('llarm', 'rlarm', 'lhand', 'rhand'),  # lower arms
    5: ('luleg', 'ruleg'),  # upper legs
    6: ('llleg', 'rlleg', 'lfoot', 'rfoot'),  # lower legs
}
PASCAL_PART_IDS: Dict[str, int] = {
    name: cls
    for cls, names in PASCAL_PART_GROUPS.items() for name in names
}
#: PASCAL VOC class index of ``person`` in PASCAL-Part annotations.
PASCAL_PERSON_CLASS = 15


class AnnotationReadError(IOError):
    """A ground-truth or image file is missing or cannot be decoded."""


def read_file(path: str, what: str, index=None,
              backend_args: Optional[dict] = None,
              channel_order: str = 'bgr',
              label_image: bool = False):
    """Read ``path`` into an array (``.npy``, images) or a dict (``.mat``).

    Images are decoded unchanged (8 or 16 bit); 3-channel images come in
    ``channel_order`` (``'bgr'`` like OpenCV, or ``'rgb'``). With
    ``label_image`` the image is decoded by Pillow, which keeps the indices
    of palette PNGs (PASCAL / VOC label maps) instead of their colours.

    Raises:
        AnnotationReadError: naming the file, what it is and the sample
            index when the file is missing or cannot be decoded.
    """
    where = f' (sample index {index})' if index is not None else ''
    try:
        data = fileio.get(path, backend_args=backend_args)
    except Exception as e:
        raise AnnotationReadError(
            f'cannot read {what} file {path}{where}: '
            f'{type(e).__name__}: {e}') from e
    ext = osp.splitext(path)[1].lower()
    try:
        if ext == '.npy':
            return np.load(io.BytesIO(data), allow_pickle=False)
        if ext == '.mat':
            import scipy.io
            return scipy.io.loadmat(io.BytesIO(data))
        if label_image:
            from PIL import Image
            with Image.open(io.BytesIO(data)) as im:
                arr = np.array(im)
            if arr.ndim == 3 and arr.shape[-1] == 3 and channel_order == 'bgr':
                arr = np.ascontiguousarray(arr[..., ::-1])
            return arr
        arr = mmcv.imfrombytes(data, flag='unchanged', backend='cv2')
        if arr is None:
            raise ValueError('image decoder returned nothing')
        if channel_order == 'rgb' and arr.ndim == 3 and arr.shape[-1] == 3:
            arr = np.ascontiguousarray(arr[..., ::-1])
        return arr
    except Exception as e:
        raise AnnotationReadError(
            f'cannot decode {what} file {path}{where}: '
            f'{type(e).__name__}: {e}') from e


def _check_dtype(arr: np.ndarray, path: str, kinds: str, what: str) -> None:
    """Raise unless ``arr``'s dtype kind is one of ``kinds`` (numpy kind
    codes: ``b`` bool, ``u``/``i`` integers, ``f`` floats)."""
    if arr.dtype.kind not in kinds:
        names = {'b': 'bool', 'u': 'unsigned int', 'i': 'int', 'f': 'float'}
        raise AnnotationReadError(
            f'{path}: a {what} must hold {" / ".join(names[k] for k in kinds)} '
            f'values, got dtype {arr.dtype}')


def _squeeze_channel(arr: np.ndarray, path: str) -> np.ndarray:
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    elif arr.ndim == 3 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 2:
        raise AnnotationReadError(
            f'{path}: expected a single-channel map, got shape {arr.shape}')
    return arr


def decode_label(arr: np.ndarray,
                 path: str,
                 reduce_zero_label: bool = False,
                 label_map: Optional[dict] = None) -> np.ndarray:
    """Label map -> ``(H, W)`` ``uint8`` with 255 = ignore.

    Negative values (MTAN's -1), NaN and values above 255 become 255.
    With ``reduce_zero_label`` 0 (void) becomes 255 and every other label is
    decreased by one (ATRC NYUD ``segmentation/*.png``). ``label_map``
    (mmseg's ``{old: new}``) is applied last.
    """
    arr = _squeeze_channel(np.asarray(arr), path)
    _check_dtype(arr, path, 'buif', 'label map')
    if arr.dtype.kind == 'f':
        bad = ~np.isfinite(arr)
        arr = np.where(bad, -1, np.round(arr)).astype(np.int64)
    else:
        arr = arr.astype(np.int64)
    out = arr.copy()
    out[(arr < 0) | (arr > IGNORE)] = IGNORE
    if reduce_zero_label:
        keep = (out != IGNORE)
        out = np.where(keep, out - 1, IGNORE)
        out[out < 0] = IGNORE
    if label_map:
        src = out.copy()
        for old, new in label_map.items():
            out[src == old] = new
    return out.astype(np.uint8)


def decode_binary(arr: np.ndarray, path: str,
                  threshold: float = 0.5) -> np.ndarray:
    """Saliency / edge map -> ``(H, W)`` ``uint8`` 0/1.

    Integer maps holding values above 1 (0/255 PNGs) are divided by 255
    first; integer 0/1 maps (e.g. the synthetic ``edge/*.npy``) are used as
    they are. The result is ``value > threshold``. Non-finite values become
    255 (ignore).
    """
    arr = np.asarray(arr)
    if arr.ndim == 3 and arr.shape[-1] in (3, 4):
        arr = arr[..., 0]  # grey PNG stored as RGB: channels are equal
    arr = _squeeze_channel(arr, path)
    _check_dtype(arr, path, 'buif', 'saliency / edge map')
    val = arr.astype(np.float32)
    if arr.dtype.kind in 'ui' and arr.size and arr.max() > 1:
        val = val / 255.0
    out = (val > threshold).astype(np.uint8)
    out[~np.isfinite(val)] = IGNORE
    return out


def decode_depth(arr: np.ndarray, path: str,
                 scale: float = 1.0) -> np.ndarray:
    """Depth -> ``(H, W)`` ``float32``; NaN / inf / negative -> 0 (invalid).
    """
    arr = _squeeze_channel(np.asarray(arr), path)
    _check_dtype(arr, path, 'uif', 'depth map')
    arr = arr.astype(np.float32) * np.float32(scale)
    arr[~np.isfinite(arr) | (arr < 0)] = 0.0
    return arr


def decode_normal(arr: np.ndarray, path: str,
                  min_norm: float = 0.5) -> np.ndarray:
    """Normals -> ``(H, W, 3)`` ``float32`` unit vectors, zero = invalid.

    ``uint8`` / ``uint16`` images are mapped with ``2 * v / max - 1`` (the
    reader hands them over in RGB order). Vectors whose norm is below
    ``min_norm`` (zero vectors, quantised PNG "no data" pixels) or that are
    not finite become the zero vector; the others are normalised.
    """
    arr = np.asarray(arr)
    if arr.ndim == 3 and arr.shape[0] == 3 and arr.shape[-1] != 3:
        arr = arr.transpose(1, 2, 0)
    if arr.ndim != 3 or arr.shape[-1] != 3:
        raise AnnotationReadError(
            f'{path}: expected an (H, W, 3) normal map, got shape '
            f'{arr.shape}')
    _check_dtype(arr, path, 'uif', 'normal map')
    if arr.dtype.kind in 'ui':
        vmax = 65535.0 if arr.dtype.itemsize == 2 else 255.0
        arr = 2.0 * arr.astype(np.float32) / vmax - 1.0
    return normalize_normals(arr.astype(np.float32), min_norm)


def normalize_normals(arr: np.ndarray, min_norm: float = 1e-6) -> np.ndarray:
    """Re-normalise ``(..., 3)`` vectors; short or non-finite ones -> 0."""
    arr = np.asarray(arr, dtype=np.float32)
    finite = np.isfinite(arr).all(-1)
    arr = np.where(finite[..., None], arr, 0.0).astype(np.float32)
    norm = np.linalg.norm(arr, axis=-1, keepdims=True)
    valid = norm > min_norm
    out = np.where(valid, arr / np.maximum(norm, 1e-12), 0.0)
    return out.astype(np.float32)


def _struct_field(rec, name: str, pos: int):
    names = getattr(getattr(rec, 'dtype', None), 'names', None)
    if names and name in names:
        return rec[name]
    return rec[pos]


def decode_pascal_parts(mat: dict, path: str) -> Optional[np.ndarray]:
    """PASCAL-Part ``human_parts/<id>.mat`` -> 6-part label map.

    Assumed structure (PASCAL-Part ``Annotations_Part`` as loaded by
    ``scipy.io.loadmat``, and as read by the ASTMT / ATRC PASCAL-Context
    loaders): ``mat['anno'][0, 0]`` is a struct ``(imname, objects)``;
    ``objects[0]`` is a struct array with fields ``(class, class_ind, mask,
    parts)``; ``parts[0]`` is a struct array with fields
    ``(part_name, mask)``. Fields are looked up by name when the struct has
    names, else by position.

    Every object of class :data:`PASCAL_PERSON_CLASS` with part annotations
    contributes its parts (grouped by :data:`PASCAL_PART_GROUPS`) on a
    background of 0.

    Returns:
        ``(H, W)`` ``uint8`` labels 0..6, or ``None`` when the image has no
        annotated person (the caller makes the target all-ignore).
    """
    try:
        anno = mat['anno'][0, 0]
        objects = _struct_field(anno, 'objects', 1)
        objects = objects[0] if objects.size else []
        target = None
        for obj in objects:
            cls = int(np.asarray(_struct_field(obj, 'class_ind', 1)).reshape(-1)[0])
            parts = _struct_field(obj, 'parts', 3)
            if cls != PASCAL_PERSON_CLASS or parts.size == 0:
                continue
            obj_mask = np.asarray(_struct_field(obj, 'mask', 2))
            if target is None:
                target = np.zeros(obj_mask.shape, dtype=np.uint8)
            for part in parts[0]:
                name = str(np.asarray(_struct_field(part, 'part_name', 0)).reshape(-1)[0])
                if name not in PASCAL_PART_IDS:
                    raise KeyError(f'unknown person part name {name!r}')
                pmask = np.asarray(_struct_field(part, 'mask', 1)).astype(bool)
                target[pmask] = PASCAL_PART_IDS[name]
        return target
    except AnnotationReadError:
        raise
    except Exception as e:
        raise AnnotationReadError(
            f'{path}: unexpected human-parts .mat structure: '
            f'{type(e).__name__}: {e}') from e


def decode_label_map_mat(mat: dict, path: str,
                         key: str = 'LabelMap') -> np.ndarray:
    """The ``LabelMap`` array of a PASCAL-Context ``.mat`` file."""
    if key not in mat:
        raise AnnotationReadError(f'{path}: no {key!r} in .mat file (keys: '
                                  f'{sorted(k for k in mat if not k.startswith("__"))})')
    return np.asarray(mat[key])


def decode_edge_from_label_map(mat: dict, path: str) -> np.ndarray:
    """Edges derived from a PASCAL-Context ``LabelMap`` (see
    :func:`.edge_utils.label_map_to_edges`)."""
    return label_map_to_edges(decode_label_map_mat(mat, path))
