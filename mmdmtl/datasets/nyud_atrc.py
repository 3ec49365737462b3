"""NYUD-v2 in the ATRC / MTI-Net / InvPT layout (40 classes + edges)."""
import os.path as osp
from typing import List

from mmdmtl.registry import DATASETS

from .multi_task_dataset import BaseMultiTaskDataset

#: NYUv2 40-class set (Gupta et al. 2013), in label order 0..39.
NYUD40_CLASSES = (
    'wall', 'floor', 'cabinet', 'bed', 'chair', 'sofa', 'table', 'door', 'window',
    'bookshelf', 'picture', 'counter', 'blinds', 'desk', 'shelves', 'curtain', 'dresser',
    'pillow', 'mirror', 'floor mat', 'clothes', 'ceiling', 'books', 'refrigerator',
    'television', 'paper', 'towel', 'shower curtain', 'box', 'whiteboard', 'person',
    'night stand', 'toilet', 'sink', 'lamp', 'bathtub', 'bag', 'otherstructure',
    'otherfurniture', 'otherprop')


def _palette(n: int) -> list:
    """A deterministic, well-spread colour palette of ``n`` entries."""
    out = []
    for i in range(n):
        r = g = b = 0
        c = i + 1
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        out.append([r, g, b])
    return out


def read_id_list(path: str, what: str) -> List[str]:
    """Non-empty stripped lines of a split list file."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{what}: split list file {path} does not exist')
    with open(path) as f:
        ids = [line.strip() for line in f if line.strip()]
    if not ids:
        raise ValueError(f'{what}: split list file {path} is empty')
    return ids


@DATASETS.register_module()
class NYUDv2ATRCDataset(BaseMultiTaskDataset):
    """NYUD-v2 as distributed with ATRC / MTI-Net / InvPT (795 / 654 images).

    Layout (``data_root`` = e.g. ``data/nyud_atrc``)::

        images/<id>.png          RGB uint8 (read as BGR like mmseg)
        segmentation/<id>.png    uint8, 0 = void, 1..40 = classes
        depth/<id>.npy           float32 metres (0 / NaN = invalid)
        normals/<id>.png         uint8, n = 2 * v / 255 - 1 (RGB = xyz)
        edge/<id>.png            0 / 255
        gt_sets/{train,val}.txt  image ids

    Segmentation uses ``reduce_zero_label`` (void -> 255, label - 1), giving
    40 classes. A positional split file (e.g. the MTPSL NYUv2 files) is
    matched in ``gt_sets`` order -- note those files were made for the MTAN
    13-class data, whose image order is not guaranteed to match.

    Args:
        subset: ``'train'`` or ``'val'``; selects ``gt_sets/<subset>.txt``
            unless ``ann_file`` is given.
        **kwargs: :class:`BaseMultiTaskDataset` arguments.
    """

    METAINFO = dict(
        classes=NYUD40_CLASSES,
        palette=_palette(len(NYUD40_CLASSES)),
        tasks=('semseg', 'depth', 'normal', 'edge'),
        task_channels=dict(semseg=40, depth=1, normal=3, edge=1))
    IMG_DIR = 'images'
    IMG_SUFFIX = '.png'
    TASK_DIRS = dict(semseg=('segmentation', '.png'), depth=('depth', '.npy'),
                     normal=('normals', '.png'), edge=('edge', '.png'))

    def __init__(self, subset: str = 'train', ann_file: str = '',
                 reduce_zero_label: bool = True, **kwargs) -> None:
        self.subset = subset
        super().__init__(ann_file=ann_file or osp.join('gt_sets', f'{subset}.txt'),
                         reduce_zero_label=reduce_zero_label, **kwargs)

    def list_sample_ids(self) -> List[str]:
        self._check_dir('img_path')
        return read_id_list(self.ann_file, type(self).__name__)
