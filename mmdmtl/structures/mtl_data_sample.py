"""The data sample of a multi-task image: mmseg's ``SegDataSample`` with
typed accessors for every task's ground truth and prediction."""
from typing import Any, Dict, Mapping, Optional, Union

import numpy as np
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmdmtl.tasks import get_task

#: Metainfo key holding ``{task_name: bool}`` of labelled tasks of a sample.
TASK_MASK_KEY = 'task_mask'


class MTLDataSample(SegDataSample):
    """A :class:`~mmseg.structures.SegDataSample` holding several tasks.

    Each task's ground truth / prediction is a ``PixelData`` at the task's
    ``gt_field`` / ``pred_field`` (``gt_sem_seg`` / ``pred_sem_seg`` for
    semseg, as mmseg, ``gt_depth_map`` / ``pred_depth_map`` for depth, ...);
    the metainfo key ``task_mask`` (``sample.task_mask``, as every metainfo
    field) says which tasks are labelled. The fields
    are those of a ``SegDataSample``, so pickles, ``to_dict()`` and mmseg
    code see the same sample as before.

    Example:
        >>> sample = MTLDataSample(metainfo=dict(task_mask={'depth': True}))
        >>> sample.set_gt('depth', torch.ones(1, 4, 5))
        >>> sample.gt('depth').shape
        torch.Size([1, 4, 5])
    """

    @classmethod
    def wrap(cls, sample: Any) -> 'MTLDataSample':
        """``sample`` as an :class:`MTLDataSample` sharing its fields.

        Accepts an :class:`MTLDataSample` (returned as it is), any
        ``BaseDataElement`` (its metainfo and fields are shared, not
        copied) and the ``to_dict()`` form the evaluator hands to metrics
        (``{'data': ...}`` entries become ``PixelData`` fields, the others
        metainfo). Fields set on the wrapper of another sample type are not
        seen by that sample.
        """
        if isinstance(sample, MTLDataSample):
            return sample
        if isinstance(sample, Mapping):
            meta, fields = {}, {}
            for key, value in sample.items():
                if isinstance(value, Mapping) and 'data' in value:
                    fields[key] = PixelData(**value)
                else:
                    meta[key] = value
            return cls(metainfo=meta, **fields)
        out = cls(metainfo=sample.metainfo)
        for key in sample.keys():
            out.set_field(getattr(sample, key), key)
        return out

    # ------------------------------------------------------------ task mask
    def labelled_tasks(self) -> Dict[str, bool]:
        """``{task: labelled}`` of the sample (``{}`` when not recorded); the
        metainfo field ``sample.task_mask`` itself when it is set."""
        return dict(self.metainfo.get(TASK_MASK_KEY) or {})

    def has_task_mask(self) -> bool:
        """Whether the sample records a task mask."""
        return isinstance(self.metainfo.get(TASK_MASK_KEY), Mapping)

    def is_labelled(self, task: str, default: bool = True) -> bool:
        """Whether ``task`` is labelled: its task-mask entry; ``default``
        for a task the mask does not name; with no mask at all, whether the
        sample carries its ground truth."""
        if not self.has_task_mask():
            return self.has_gt(task)
        return bool(self.labelled_tasks().get(task, default))

    # ---------------------------------------------------------- accessors
    def has_gt(self, task: str) -> bool:
        """Whether the ground truth of ``task`` is present."""
        return get_task(task).gt_field in self

    def has_pred(self, task: str) -> bool:
        """Whether the prediction of ``task`` is present."""
        return get_task(task).pred_field in self

    def gt(self, task: str) -> Optional[torch.Tensor]:
        """The ``(C, H, W)`` ground truth of ``task`` (``None`` if absent)."""
        return self._data(get_task(task).gt_field)

    def labelled_gt(self, task: str) -> Optional[torch.Tensor]:
        """The ground truth of ``task`` when it is labelled, else ``None``."""
        return self.gt(task) if self.is_labelled(task) else None

    def pred(self, task: str) -> Optional[torch.Tensor]:
        """The ``(C, H, W)`` prediction of ``task`` (``None`` if absent)."""
        return self._data(get_task(task).pred_field)

    def gt_numpy(self, task: str) -> Optional[np.ndarray]:
        """:meth:`gt` as a CPU numpy array (floats as ``float32``)."""
        return pixel_numpy(self.gt(task))

    def pred_numpy(self, task: str) -> Optional[np.ndarray]:
        """:meth:`pred` as a CPU numpy array (floats as ``float32``)."""
        return pixel_numpy(self.pred(task))

    def set_gt(self, task: str, data: Union[torch.Tensor, np.ndarray, PixelData]) -> None:
        """Store the ``(C, H, W)`` ground truth of ``task``."""
        self.set_field(_as_pixel_data(data, f'ground truth of {task!r}'), get_task(task).gt_field)

    def set_pred(self, task: str, data: Union[torch.Tensor, np.ndarray, PixelData]) -> None:
        """Store the ``(C, H, W)`` prediction of ``task``."""
        self.set_field(_as_pixel_data(data, f'prediction of {task!r}'), get_task(task).pred_field)

    def _data(self, field: str) -> Optional[torch.Tensor]:
        if field not in self:
            return None
        value = getattr(self, field)
        data = getattr(value, 'data', value)
        return None if data is None else torch.as_tensor(data)


def _as_pixel_data(data: Any, what: str) -> PixelData:
    if isinstance(data, PixelData):
        return data
    if not isinstance(data, (torch.Tensor, np.ndarray)):
        raise TypeError(f'the {what} must be a tensor, array or PixelData, got '
                        f'{type(data).__name__}')
    if isinstance(data, np.ndarray):
        data = torch.from_numpy(np.ascontiguousarray(data))
    return PixelData(data=data)


def pixel_numpy(value: Any) -> Optional[np.ndarray]:
    """The array of a ``PixelData`` / tensor / array (``None`` stays
    ``None``): CPU numpy, floats as ``float32``."""
    data = getattr(value, 'data', value)
    if data is None:
        return None
    if isinstance(data, torch.Tensor):
        data = data.detach().cpu()
        return (data.float() if data.is_floating_point() else data).numpy()
    return np.asarray(data)
