"""Loading transforms for multi-task samples with partial labels."""
import os.path as osp
from typing import Dict, Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from mmdmtl.registry import TRANSFORMS
from mmdmtl.structures.tasks import TASK_MASK_KEY, check_tasks, get_task

from .annotation_readers import AnnotationReadError, read_file
from .image_values import NONFINITE_MODES, image_to_uint8


def make_invalid_target(task: str, shape: Sequence[int]) -> np.ndarray:
    """An all-invalid target of ``task`` for an image of ``shape[:2]``
    (:meth:`~mmdmtl.tasks.BaseTask.invalid_target`)."""
    return get_task(task).invalid_target(shape)


def has_valid_pixels(task: str, target: np.ndarray) -> bool:
    """Whether ``target`` has at least one pixel that is not invalid."""
    return get_task(task).has_valid_pixels(target)


@TRANSFORMS.register_module()
class LoadMultiTaskImage(BaseTransform):
    """Load the image of a multi-task sample as ``uint8`` BGR.

    Handles ``.npy`` images (MTAN / MTPSL: ``H x W x 3`` float in [0, 1],
    RGB) and every image file OpenCV decodes (PNG / JPEG / TIFF / BMP, 8 or
    16 bit, grey, colour or with alpha). Pixel values are mapped to [0, 255]
    by their dtype's range (:func:`~.image_values.image_to_uint8`): 8-bit
    unchanged, 16-bit (and other unsigned) scaled by ``255 / max``
    (``uint16``: ``v * 255 / 65535``), floats multiplied by ``float_scale``
    (values outside the range are refused, naming the file), signed
    integers accepted only in [0, 255]. NaN / infinite pixels become 0 with
    an :class:`~.image_values.ImageValueWarning` naming the file and the
    number of pixels (``nonfinite='error'`` refuses them instead).

    Required keys: ``img_path`` (``sample_idx`` is used in error messages).
    Added keys: ``img`` (``H x W x 3`` ``uint8`` BGR), ``img_shape``,
    ``ori_shape``.

    Args:
        to_float32: Return a ``float32`` image instead of ``uint8``.
        float_scale: Multiplier for float images (255 maps [0, 1] to
            [0, 255]; 1 for floats already in [0, 255]).
        npy_channel_order: Channel order of ``.npy`` images (``'rgb'`` for
            MTAN data, or ``'bgr'``).
        nonfinite: ``'warn'`` or ``'error'`` for NaN / infinite pixels.
        backend_args: mmengine file backend arguments.
    """

    def __init__(self,
                 to_float32: bool = False,
                 float_scale: float = 255.0,
                 npy_channel_order: str = 'rgb',
                 nonfinite: str = 'warn',
                 backend_args: Optional[dict] = None) -> None:
        if npy_channel_order not in ('rgb', 'bgr'):
            raise ValueError(f'npy_channel_order must be rgb or bgr, got '
                             f'{npy_channel_order!r}')
        if nonfinite not in NONFINITE_MODES:
            raise ValueError(f'nonfinite must be one of {NONFINITE_MODES}, got '
                             f'{nonfinite!r}')
        if not float_scale > 0:
            raise ValueError(f'float_scale must be > 0, got {float_scale!r}')
        self.to_float32 = to_float32
        self.float_scale = float_scale
        self.npy_channel_order = npy_channel_order
        self.nonfinite = nonfinite
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        """Load ``results['img_path']`` into ``results['img']``."""
        if 'img_path' not in results:
            raise KeyError('LoadMultiTaskImage: results have no img_path '
                           f'(sample index {results.get("sample_idx")})')
        path = results['img_path']
        idx = results.get('sample_idx')
        img = read_file(path, 'image', idx, self.backend_args)
        is_npy = osp.splitext(path)[1].lower() == '.npy'
        if img.ndim == 3 and img.shape[0] in (1, 3) and img.shape[-1] not in (1, 3, 4):
            img = img.transpose(1, 2, 0)
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=-1)
        elif img.ndim == 3 and img.shape[-1] == 1:
            img = np.repeat(img, 3, axis=-1)
        elif img.ndim == 3 and img.shape[-1] == 4:
            img = img[..., :3]
        if img.ndim != 3 or img.shape[-1] != 3:
            raise AnnotationReadError(
                f'image file {path} (sample index {idx}) has shape '
                f'{img.shape}; expected H x W x 3')
        where = path if idx is None else f'file {path} (sample index {idx})'
        img = image_to_uint8(img, where, self.float_scale, self.nonfinite)
        if is_npy and self.npy_channel_order == 'rgb':
            img = img[..., ::-1]
        img = np.ascontiguousarray(img)
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(to_float32={self.to_float32}, '
                f'float_scale={self.float_scale}, '
                f'npy_channel_order={self.npy_channel_order!r}, '
                f'nonfinite={self.nonfinite!r})')


@TRANSFORMS.register_module()
class LoadMultiTaskAnnotations(BaseTransform):
    """Load the ground truth of every task of a sample.

    For each task in ``tasks`` (default ``results['tasks']``):

    * a task marked unlabelled in ``results['task_mask']`` gets an
      all-invalid target of the image size (:func:`make_invalid_target`);
      its file is not read;
    * a labelled task is read from ``results[task.path_key]`` and decoded by
      its task object (:meth:`~mmdmtl.tasks.BaseTask.load`, by file type, see
      :mod:`.annotation_readers`): label maps ``uint8`` with 255 = ignore,
      depth ``float32`` metres with NaN / inf / negative -> 0, normals
      ``(H, W, 3)`` unit vectors with zero = invalid, saliency and edges 0/1;
    * a labelled target without a single valid pixel (e.g. a PASCAL image
      with no annotated person for ``parts``) is marked unlabelled when
      ``unlabel_empty`` is set, so losses never treat it as a label.

    Every target key is appended to ``results['seg_fields']`` so that
    mmseg / mmcv geometric transforms process it.

    Dataset-provided keys that change decoding: ``reduce_zero_label`` and
    ``label_map`` (semseg), ``depth_scale`` (depth multiplier, e.g. 1e-3 for
    millimetre PNGs), ``normal_label_map_path`` + ``normal_valid_classes``
    (PASCAL: keep normals only on these PASCAL-Context classes).

    Args:
        tasks: Tasks to load; default: ``results['tasks']``.
        unlabel_empty: Mark labelled targets without valid pixels as
            unlabelled.
        sal_threshold: Threshold for saliency maps in [0, 1] (shorthand for
            ``task_options=dict(sal=dict(threshold=...))``).
        edge_threshold: Threshold for edge maps in [0, 1] (likewise).
        task_options: ``{task: dict of reader options}`` passed to the
            task's :meth:`~mmdmtl.tasks.BaseTask.load`.
        backend_args: mmengine file backend arguments.

    Raises:
        AnnotationReadError: a file is missing or unreadable (names the file
            and the sample index).
        ValueError: a target's size differs from its image's (names the
            file, both shapes and the sample index).
        KeyError: an unknown task or a missing path key.
    """

    def __init__(self,
                 tasks: Optional[Sequence[str]] = None,
                 unlabel_empty: bool = True,
                 sal_threshold: float = 0.5,
                 edge_threshold: float = 0.5,
                 task_options: Optional[Dict[str, dict]] = None,
                 backend_args: Optional[dict] = None) -> None:
        self.tasks = None if tasks is None else check_tasks(
            tasks, where='LoadMultiTaskAnnotations')
        self.unlabel_empty = unlabel_empty
        self.sal_threshold = sal_threshold
        self.edge_threshold = edge_threshold
        self.task_options = {k: dict(v) for k, v in (task_options or {}).items()}
        self.task_options.setdefault('sal', {}).setdefault('threshold', sal_threshold)
        self.task_options.setdefault('edge', {}).setdefault('threshold', edge_threshold)
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        """Load every task target into ``results``."""
        tasks = self.tasks if self.tasks is not None else results.get('tasks')
        if tasks is None:
            raise KeyError('LoadMultiTaskAnnotations: no tasks given and results '
                           f'have no "tasks" (sample index {results.get("sample_idx")})')
        tasks = check_tasks(tasks, where='LoadMultiTaskAnnotations')
        shape = results.get('ori_shape') or results.get('img_shape')
        if shape is None and 'img' in results:
            shape = results['img'].shape[:2]
        if shape is None:
            raise KeyError('LoadMultiTaskAnnotations must run after the image is '
                           'loaded (no ori_shape / img_shape in results)')
        shape = tuple(int(s) for s in shape[:2])
        idx = results.get('sample_idx')
        old_mask: Dict[str, bool] = dict(results.get(TASK_MASK_KEY) or {})
        mask: Dict[str, bool] = {}
        seg_fields = list(results.get('seg_fields', []))
        for task in tasks:
            spec = get_task(task)
            labelled = bool(old_mask.get(task, True))
            target = None
            if labelled:
                if spec.path_key not in results or results[spec.path_key] is None:
                    raise KeyError(f'sample index {idx} ({results.get("img_path")}): '
                                   f'task {task!r} is labelled but results have no '
                                   f'{spec.path_key!r}')
                path = results[spec.path_key]
                try:
                    target = spec.load(path, results, self.backend_args,
                                       **self.task_options.get(task, {}))
                except (AnnotationReadError, ValueError, KeyError) as e:
                    if 'sample index' in str(e):
                        raise
                    # decoders name the file; add the sample index
                    raise AnnotationReadError(
                        f'{task} ground-truth file {path} (sample index {idx}): '
                        f'{type(e).__name__}: {e}') from e
                if target is not None and tuple(target.shape[:2]) != shape:
                    raise ValueError(
                        f'{task} ground-truth file {path} has shape '
                        f'{tuple(target.shape[:2])} but its image '
                        f'{results.get("img_path")} has {shape} (sample index {idx})')
                if target is None or (self.unlabel_empty
                                      and not spec.has_valid_pixels(target)):
                    labelled = False
            if target is None:
                target = spec.invalid_target(shape)
            results[spec.results_key] = target
            mask[task] = labelled
            if spec.results_key not in seg_fields:
                seg_fields.append(spec.results_key)
        results['seg_fields'] = seg_fields
        results[TASK_MASK_KEY] = mask
        results['tasks'] = list(tasks)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(tasks={self.tasks}, '
                f'unlabel_empty={self.unlabel_empty})')
