"""PASCAL-Context multi-task (ASTMT / ATRC ``PASCAL_MT`` layout)."""
import os.path as osp
from typing import List, Optional, Sequence

from mmdmtl.registry import DATASETS

from .multi_task_dataset import BaseMultiTaskDataset
from .nyud_atrc import read_id_list

#: PASCAL VOC classes (semseg of the multi-task PASCAL-Context benchmark).
PASCAL_MT_CLASSES = ('background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus',
                     'car', 'cat', 'chair', 'cow', 'diningtable', 'dog', 'horse', 'motorbike',
                     'person', 'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor')
PASCAL_MT_PALETTE = [[0, 0, 0], [128, 0, 0], [0, 128, 0], [128, 128, 0], [0, 0, 128],
                     [128, 0, 128], [0, 128, 128], [128, 128, 128], [64, 0, 0], [192, 0, 0],
                     [64, 128, 0], [192, 128, 0], [64, 0, 128], [192, 0, 128], [64, 128, 128],
                     [192, 128, 128], [0, 64, 0], [128, 64, 0], [0, 192, 0], [128, 192, 0],
                     [0, 64, 128]]
#: Human-part classes (6 parts + background).
PASCAL_PARTS_CLASSES = ('background', 'head', 'torso', 'upper_arm', 'lower_arm', 'upper_leg',
                        'lower_leg')


@DATASETS.register_module()
class PascalContextMTDataset(BaseMultiTaskDataset):
    """PASCAL-Context for multi-task learning (4998 train / 5105 val).

    Layout (``data_root`` = e.g. ``data/PASCAL_MT``)::

        JPEGImages/<id>.jpg
        ImageSets/Context/{train,val}.txt
        semseg/VOC12/<id>.png or semseg/pascal-context/<id>.png
                                        21 classes, 255 = ignore
        human_parts/<id>.mat            PASCAL-Part ``anno`` struct
        normals_distill/<id>.png        n = 2 * v / 255 - 1 (RGB = xyz)
        sal_distill/<id>.png            grey, > 0.5 * 255 = salient
        pascal-context/trainval/<id>.mat    PASCAL-Context ``LabelMap``
        edge/<id>.png                   optional precomputed 0 / 255 edges

    Decoding choices (documented assumptions):

    * semseg: ``semseg/VOC12/<id>.png`` when it exists, else
      ``semseg/pascal-context/<id>.png`` (as the ASTMT / ATRC loaders do).
    * parts: the 24 PASCAL-Part person part names grouped into 6 parts (see
      ``annotation_readers.PASCAL_PART_GROUPS``); images without an annotated
      person get an all-ignore target and ``task_mask['parts'] = False``.
    * edge: ``edge_source='label_map'`` (default) derives edges as the ATRC
      code does -- non-zero 3x3 Laplacian of the PASCAL-Context
      ``LabelMap``, thinned (our Guo-Hall thinning; skimage is not needed);
      ``edge_source='png'`` reads precomputed ``edge/<id>.png`` maps.
    * normals: ``normals_distill`` PNGs. ATRC additionally keeps normals
      only on PASCAL-Context classes shared with NYUD; pass those
      ``LabelMap`` class ids as ``normal_valid_classes`` to reproduce it
      (default ``None``: every decoded normal is valid).
    * sal: ``sal_distill`` PNG / 255 > 0.5.

    Published splits (``pascal_onelabel.npy``) are matched by image id.

    Args:
        subset: ``'train'`` or ``'val'``; selects
            ``ImageSets/Context/<subset>.txt`` unless ``ann_file`` is given.
        edge_source: ``'label_map'`` or ``'png'``.
        normal_valid_classes: Optional PASCAL-Context class ids on which
            normals are valid.
        **kwargs: :class:`BaseMultiTaskDataset` arguments.
    """

    METAINFO = dict(
        classes=PASCAL_MT_CLASSES,
        palette=PASCAL_MT_PALETTE,
        parts_classes=PASCAL_PARTS_CLASSES,
        tasks=('semseg', 'parts', 'sal', 'normal', 'edge'),
        task_channels=dict(semseg=21, parts=7, sal=1, normal=3, edge=1))
    IMG_DIR = 'JPEGImages'
    IMG_SUFFIX = '.jpg'
    LABEL_MAP_DIR = osp.join('pascal-context', 'trainval')
    #: ``{task: data_prefix key}`` of folders whose file, when present, is
    #: used instead of the task's own (the VOC12 semantic labels).
    PREFERRED_PREFIXES = dict(semseg='voc12_seg_map_path')

    def __init__(self,
                 subset: str = 'train',
                 ann_file: str = '',
                 edge_source: str = 'label_map',
                 normal_valid_classes: Optional[Sequence[int]] = None,
                 **kwargs) -> None:
        if edge_source not in ('label_map', 'png'):
            raise ValueError(f'edge_source must be label_map or png, got {edge_source!r}')
        self.subset = subset
        self.edge_source = edge_source
        self.normal_valid_classes = (None if normal_valid_classes is None else
                                     [int(c) for c in normal_valid_classes])
        super().__init__(ann_file=ann_file or osp.join('ImageSets', 'Context', f'{subset}.txt'),
                         **kwargs)

    @property
    def TASK_DIRS(self) -> dict:  # noqa: N802 - mirrors the class attribute of the base
        edge = (self.LABEL_MAP_DIR, '.mat') if self.edge_source == 'label_map' else ('edge',
                                                                                       '.png')
        return dict(semseg=(osp.join('semseg', 'pascal-context'), '.png'),
                    parts=('human_parts', '.mat'), sal=('sal_distill', '.png'),
                    normal=('normals_distill', '.png'), edge=edge)

    def default_data_prefix(self) -> dict:
        prefix = super().default_data_prefix()
        prefix['voc12_seg_map_path'] = osp.join('semseg', 'VOC12')
        prefix['label_map_path'] = self.LABEL_MAP_DIR
        return prefix

    def task_file_path(self, task: str, sample_id: str) -> str:
        """The task's file; a VOC12 file (``PREFERRED_PREFIXES``) wins when
        it exists."""
        prefix = self.PREFERRED_PREFIXES.get(task)
        if prefix is not None:
            preferred = osp.join(self.data_prefix[prefix], sample_id + '.png')
            if osp.isfile(preferred):
                return preferred
        return super().task_file_path(task, sample_id)

    def extra_info(self, sample_id: str) -> dict:
        if self.normal_valid_classes is None or 'normal' not in self.tasks:
            return {}
        return dict(normal_valid_classes=self.normal_valid_classes,
                    normal_label_map_path=osp.join(self.data_prefix['label_map_path'],
                                                   sample_id + '.mat'))

    def list_sample_ids(self) -> List[str]:
        self._check_dir('img_path')
        return read_id_list(self.ann_file, type(self).__name__)
