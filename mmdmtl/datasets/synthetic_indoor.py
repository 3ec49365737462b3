"""Procedurally rendered indoor scenes in the MTAN NYUD format."""
import os
import os.path as osp
import uuid
from typing import Optional

from mmdmtl.registry import DATASETS

from .nyud_mtan import NYUDv2MTANDataset, list_indexed_npy
from .partial_labels import generate_partial_split, save_partial_split

try:  # the renderer lives in mmdmtl.datasets.synthetic (separate module)
    from .synthetic import SYNTHETIC_CLASSES, SYNTHETIC_PALETTE
    _SYNTHETIC_IMPORT_ERROR = None
except ImportError as e:  # pragma: no cover - only while it is unavailable
    SYNTHETIC_CLASSES, SYNTHETIC_PALETTE = None, None
    _SYNTHETIC_IMPORT_ERROR = e


def ensure_synthetic_dataset(data_root: str, **kwargs) -> str:
    """Render the synthetic data into ``data_root`` unless it is there;
    returns the folder of the generation (``data_root/gen-...``).

    Thin wrapper around :func:`mmdmtl.datasets.synthetic.ensure_synthetic_dataset`
    (imported lazily; tests may monkeypatch this function).
    """
    from .synthetic import ensure_synthetic_dataset as _ensure
    return _ensure(data_root, **kwargs)


@DATASETS.register_module()
class SyntheticIndoorDataset(NYUDv2MTANDataset):
    """Synthetic indoor scenes (semseg, depth, normal, edge), MTAN layout.

    Before loading, the data are rendered into a sub-folder of ``data_root``
    named for the renderer settings (once; see
    :func:`ensure_synthetic_dataset`: other settings make another
    generation beside it, nothing is deleted, and a non-empty ``data_root``
    the generator did not write is refused). ``self.data_root`` is that
    generation folder. With ``split_mode`` set and no ``split_file``, a
    seeded partial-label split over the training images is generated with
    :func:`generate_partial_split` and cached as
    ``<generation>/splits/<mode>_seed<seed>_n<N>_<tasks>.json``.

    Example:
        >>> dataset = dict(type='SyntheticIndoorDataset',
        ...                data_root='data/synthetic_indoor', subset='train',
        ...                tasks=['semseg', 'depth', 'normal', 'edge'],
        ...                split_mode='onelabel', pipeline=[...])

    Args:
        num_train, num_val, height, width, seed: Renderer settings.
        split_mode: ``None``, ``'onelabel'`` or ``'randomlabels'`` (or any
            mode of :func:`generate_partial_split` that needs no extra
            argument).
        **kwargs: :class:`NYUDv2MTANDataset` arguments.
    """

    METAINFO = dict(
        classes=SYNTHETIC_CLASSES,
        palette=SYNTHETIC_PALETTE,
        tasks=('semseg', 'depth', 'normal', 'edge'),
        task_channels=dict(
            semseg=len(SYNTHETIC_CLASSES) if SYNTHETIC_CLASSES else 0,
            depth=1, normal=3, edge=1))

    def __init__(self,
                 data_root: str = 'data/synthetic_indoor',
                 num_train: int = 1000,
                 num_val: int = 200,
                 height: int = 96,
                 width: int = 128,
                 seed: int = 0,
                 split_mode: Optional[str] = None,
                 split_file: Optional[str] = None,
                 **kwargs) -> None:
        if SYNTHETIC_CLASSES is None and 'classes' not in (kwargs.get('metainfo') or {}):
            raise ImportError('SyntheticIndoorDataset needs mmdmtl.datasets.synthetic '
                              '(SYNTHETIC_CLASSES), which failed to import: '
                              f'{_SYNTHETIC_IMPORT_ERROR!r}')
        data_root = ensure_synthetic_dataset(data_root, num_train=num_train, num_val=num_val,
                                             height=height, width=width, seed=seed) or data_root
        self.split_mode = split_mode
        self.split_seed = seed
        if split_mode is not None and split_file is None and not kwargs.get('test_mode', False):
            split_file = self._make_split(data_root, kwargs)
        super().__init__(data_root=data_root, split_file=split_file, **kwargs)

    def _make_split(self, data_root: str, kwargs: dict) -> str:
        subset = kwargs.get('subset', 'train')
        tasks = list(kwargs.get('tasks') or self.METAINFO['tasks'])
        prefix = (kwargs.get('data_prefix') or {}).get('img_path', osp.join(subset, 'image'))
        ids = list_indexed_npy(osp.join(data_root, prefix), type(self).__name__)
        name = (f'{self.split_mode}_seed{self.split_seed}_n{len(ids)}_'
                f'{"-".join(tasks)}.json')
        path = osp.join(data_root, 'splits', name)
        if not osp.isfile(path):
            split = generate_partial_split(len(ids), tasks, self.split_mode,
                                           seed=self.split_seed)
            # write under a unique name, then rename: concurrent ranks never
            # read a half-written file
            os.makedirs(osp.dirname(path), exist_ok=True)
            tmp = osp.join(osp.dirname(path),
                           f'.{name}.{os.getpid()}-{uuid.uuid4().hex[:12]}.tmp.json')
            try:
                save_partial_split(split, tmp)
                os.replace(tmp, path)
            finally:
                if osp.exists(tmp):
                    os.remove(tmp)
        return path
