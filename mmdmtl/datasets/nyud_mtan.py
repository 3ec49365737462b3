"""NYUD-v2 in the MTAN / MTPSL format (the DiffusionMTL NYUD benchmark)."""
import os.path as osp
import re
from typing import List

from mmdmtl.registry import DATASETS

from .multi_task_dataset import BaseMultiTaskDataset

#: The 13 NYUv2 classes of the MTAN / MTPSL preprocessing, in label order
#: 0..12 (Couprie et al. 13-class mapping, as used by SceneNet / MTAN).
NYUD13_CLASSES = ('bed', 'books', 'ceiling', 'chair', 'floor', 'furniture', 'objects',
                  'picture', 'sofa', 'table', 'tv', 'wall', 'window')
NYUD13_PALETTE = [[0, 0, 255], [233, 89, 48], [0, 218, 0], [149, 0, 240], [222, 241, 24],
                  [255, 206, 206], [0, 224, 229], [106, 136, 204], [117, 29, 41],
                  [240, 35, 235], [0, 167, 156], [249, 139, 0], [225, 229, 194]]


def list_indexed_npy(folder: str, what: str) -> List[str]:
    """Ids ``'0'..'N-1'`` of ``{i}.npy`` files in ``folder``, checked to be
    contiguous (partial-label rows are matched to files by index)."""
    if not osp.isdir(folder):
        raise FileNotFoundError(f'{what}: image folder {folder!r} does not exist')
    import os
    idx = []
    for name in os.listdir(folder):
        m = re.fullmatch(r'(\d+)\.npy', name)
        if m:
            idx.append(int(m.group(1)))
    idx.sort()
    if idx != list(range(len(idx))):
        missing = sorted(set(range(max(idx) + 1)) - set(idx)) if idx else []
        raise FileNotFoundError(
            f'{what}: {folder} must hold 0.npy..{len(idx) - 1}.npy without gaps; '
            f'missing e.g. {[f"{i}.npy" for i in missing[:5]]}')
    return [str(i) for i in idx]


@DATASETS.register_module()
class NYUDv2MTANDataset(BaseMultiTaskDataset):
    """NYUD-v2, MTAN / MTPSL preprocessing (13 classes, 288 x 384).

    Layout (``data_root`` = e.g. ``data/nyud_mtan``)::

        {train,val}/image/{i}.npy    H x W x 3 float in [0, 1], RGB
        {train,val}/label/{i}.npy    H x W float, 0..12, -1 = ignore
        {train,val}/depth/{i}.npy    H x W x 1 float metres, 0 = invalid
        {train,val}/normal/{i}.npy   H x W x 3 float in [-1, 1], 0 = invalid
        {train,val}/edge/{i}.npy     optional: H x W in {0, 1}

    The number of samples is the number of ``image/*.npy`` files; row ``i``
    of a published split file (``nyuv2_onelabel.pth``: 795 x
    [semseg, depth, normal]) labels file ``i``.

    Example:
        >>> dataset = dict(type='NYUDv2MTANDataset', data_root='data/nyud_mtan',
        ...                subset='train', tasks=['semseg', 'depth', 'normal'],
        ...                split_file='nyuv2_onelabel', pipeline=[...])

    Args:
        subset: ``'train'`` or ``'val'``: selects the default folders.
        **kwargs: :class:`BaseMultiTaskDataset` arguments.
    """

    METAINFO = dict(
        classes=NYUD13_CLASSES,
        palette=NYUD13_PALETTE,
        tasks=('semseg', 'depth', 'normal', 'edge'),
        task_channels=dict(semseg=13, depth=1, normal=3, edge=1))
    IMG_SUFFIX = '.npy'
    #: task -> (folder name inside the subset folder, suffix)
    TASK_FOLDERS = dict(semseg='label', depth='depth', normal='normal', edge='edge')

    def __init__(self, subset: str = 'train', **kwargs) -> None:
        self.subset = subset
        super().__init__(**kwargs)

    @property
    def TASK_DIRS(self) -> dict:  # noqa: N802 - mirrors the class attribute of the base
        return {t: (osp.join(self.subset, f), '.npy') for t, f in self.TASK_FOLDERS.items()}

    def default_data_prefix(self) -> dict:
        prefix = super().default_data_prefix()
        prefix['img_path'] = osp.join(self.subset, 'image')
        return prefix

    def list_sample_ids(self) -> List[str]:
        return list_indexed_npy(self.data_prefix['img_path'], type(self).__name__)
