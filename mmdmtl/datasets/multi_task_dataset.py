"""Base class of multi-task dense prediction datasets with partial labels."""
import copy
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmseg.datasets import BaseSegDataset

from mmdmtl.structures.tasks import TASK_MASK_KEY, check_tasks, get_task

from .partial_labels import PartialLabelSplit, load_partial_split


class BaseMultiTaskDataset(BaseSegDataset):
    """Multi-task dataset: one image, several dense targets, a task mask.

    Each data info holds ``img_path``, ``img_id``, one file path per
    selected task (under the task's ``TaskSpec.path_key``, e.g.
    ``depth_map_path``), ``tasks`` and ``task_mask`` (``{task: bool}``),
    plus mmseg's ``seg_fields``, ``label_map`` and ``reduce_zero_label``.
    ``sample_idx`` is added by mmengine when a sample is fetched.

    ``task_mask`` is all ``True`` without a split file and always in
    ``test_mode`` (validation / test samples are evaluated on every task they
    have ground truth for). With ``split_file`` it comes from a published
    split or an mmdmtl manifest (see :mod:`..partial_labels`), matched to
    samples by position (NYUv2 / Cityscapes ``labels_weights``: row ``i`` is
    sample ``i`` in listing order) or by image id (PASCAL).

    Subclasses set ``METAINFO`` (``classes``, ``palette``, ``tasks`` =
    available tasks, ``task_channels``, optionally ``parts_classes``),
    ``TASK_DIRS`` (``{task: (data_prefix default, suffix)}``) and implement
    :meth:`list_sample_ids`. The instance metainfo (``dataset_meta``) adds
    ``tasks`` = the *selected* tasks and ``available_tasks``.

    Args:
        tasks: Tasks to load (any subset of ``METAINFO['tasks']``, in the
            order given); default: all available tasks.
        split_file: Optional partial-label split (``.pth`` / ``.npy`` /
            ``.json``, a path or relative to ``data_root``) or the name of a
            shipped published split (``'nyuv2_onelabel'``, see
            :mod:`mmdmtl.datasets.splits`). Ignored in ``test_mode``. A split
            that labels no image for one of ``tasks`` is refused.
        skip_unlabeled: Drop training samples whose mask is all ``False`` for
            the selected tasks (e.g. a one-label split restricted to fewer
            tasks).
        data_prefix: Folders relative to ``data_root``: ``img_path`` and one
            entry per task path key; missing entries get the class defaults.
        img_suffix: Image file suffix; default from the class.
        **kwargs: Other :class:`mmseg.datasets.BaseSegDataset` arguments.
    """

    METAINFO: dict = dict(classes=(), palette=[], tasks=(), task_channels={})
    #: Default image folder (relative to data_root) and suffix.
    IMG_DIR: str = ''
    IMG_SUFFIX: str = '.png'
    #: {task: (default folder relative to data_root, file suffix)}
    TASK_DIRS: Dict[str, tuple] = {}

    def __init__(self,
                 tasks: Optional[Sequence[str]] = None,
                 split_file: Optional[str] = None,
                 skip_unlabeled: bool = False,
                 data_prefix: Optional[dict] = None,
                 img_suffix: Optional[str] = None,
                 **kwargs) -> None:
        available = tuple(self.METAINFO.get('tasks', ()))
        name = type(self).__name__
        self.tasks = check_tasks(available if tasks is None else tasks, available,
                                 where=name)
        self.split_file = split_file
        self.skip_unlabeled = skip_unlabeled
        prefix = self.default_data_prefix()
        prefix.update(data_prefix or {})
        kwargs.setdefault('seg_map_suffix', self.TASK_DIRS.get('semseg', ('', '.png'))[1])
        super().__init__(data_prefix=prefix,
                         img_suffix=img_suffix if img_suffix is not None else self.IMG_SUFFIX,
                         **kwargs)
        self._metainfo.update(
            dict(tasks=tuple(self.tasks), available_tasks=available))

    # ----------------------------------------------------------------- hooks
    def default_data_prefix(self) -> dict:
        """Default ``data_prefix``: the image folder and each task's folder."""
        prefix = dict(img_path=self.IMG_DIR)
        for task, (folder, _) in self.TASK_DIRS.items():
            prefix[get_task(task).path_key] = folder
        return prefix

    def list_sample_ids(self) -> List[str]:
        """Image ids of the dataset, in order (subclasses implement)."""
        raise NotImplementedError

    def task_file_path(self, task: str, sample_id: str) -> str:
        """Path of ``task``'s ground truth for ``sample_id``."""
        spec = get_task(task)
        folder = self.data_prefix.get(spec.path_key, '')
        return osp.join(folder, sample_id + self.TASK_DIRS[task][1])

    def extra_info(self, sample_id: str) -> dict:
        """Additional per-sample keys for the data info (default: none)."""
        return {}

    # ------------------------------------------------------------- internals
    def _check_dir(self, key: str) -> str:
        folder = self.data_prefix.get(key, '')
        if not osp.isdir(folder):
            raise FileNotFoundError(
                f'{type(self).__name__}: {key} folder {folder!r} does not exist '
                f'(data_root={self.data_root!r})')
        return folder

    def load_split(self) -> Optional[PartialLabelSplit]:
        """The partial-label split, or ``None`` (all tasks labelled)."""
        if self.split_file is None or self.test_mode:
            return None
        path = str(self.split_file)
        if not osp.isabs(path) and not osp.exists(path) and self.data_root:
            joined = osp.join(self.data_root, path)
            if osp.exists(joined):
                path = joined
        return load_partial_split(path)  # also resolves shipped split names

    def _check_every_task_labelled(self, mask: np.ndarray, source: str) -> None:
        """Refuse a split that labels no training image for a selected task.

        Training on it would run the whole schedule with a zero loss for that
        task (and, for an all-unlabelled split, a zero total loss).
        """
        counts = mask.sum(0)
        empty = [t for t, c in zip(self.tasks, counts) if c == 0]
        if empty:
            raise ValueError(
                f'{type(self).__name__}: split file {source} labels no training '
                f'image for task(s) {empty} (of {len(mask)} images; labelled per '
                f'task: {dict(zip(self.tasks, counts.tolist()))}); the model '
                'would learn nothing for them. Use a split that labels every '
                'task, or drop these tasks from `tasks`.')

    def load_data_list(self) -> List[dict]:
        """Build one data info per image with task paths and task mask."""
        ids = [str(s) for s in self.list_sample_ids()]
        if not ids:
            raise FileNotFoundError(
                f'{type(self).__name__}: no samples found (data_root='
                f'{self.data_root!r}, data_prefix={self.data_prefix})')
        split = self.load_split()
        if split is None:
            mask = np.ones((len(ids), len(self.tasks)), dtype=bool)
        else:
            mask = split.mask_for(self.tasks, sample_ids=ids, num_samples=len(ids))
            self._check_every_task_labelled(mask, split.source)
        img_dir = self.data_prefix.get('img_path', '')
        data_list = []
        for sid, row in zip(ids, mask):
            if self.skip_unlabeled and not self.test_mode and not row.any():
                continue
            info = dict(img_path=osp.join(img_dir, sid + self.img_suffix), img_id=sid)
            for task in self.tasks:
                info[get_task(task).path_key] = self.task_file_path(task, sid)
            info['tasks'] = list(self.tasks)
            info[TASK_MASK_KEY] = {t: bool(v) for t, v in zip(self.tasks, row)}
            info['label_map'] = self.label_map
            info['reduce_zero_label'] = self.reduce_zero_label
            info['seg_fields'] = []
            info.update(copy.deepcopy(self.extra_info(sid)))
            data_list.append(info)
        return data_list

    def task_mask_array(self) -> np.ndarray:
        """``(N, T)`` bool array of the task masks, in ``self.tasks`` order."""
        return np.array([[self.get_data_info(i)[TASK_MASK_KEY][t] for t in self.tasks]
                         for i in range(len(self))], dtype=bool).reshape(-1, len(self.tasks))
