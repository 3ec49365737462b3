"""Cityscapes in the MTAN / MTPSL format (7 classes + depth)."""
from mmdmtl.registry import DATASETS

from .nyud_mtan import NYUDv2MTANDataset

#: The 7 Cityscapes categories used by MTAN (``label_7``), in label order.
CITYSCAPES7_CLASSES = ('flat', 'construction', 'object', 'nature', 'sky', 'human',
                       'vehicle')
CITYSCAPES7_PALETTE = [[128, 64, 128], [70, 70, 70], [153, 153, 153], [107, 142, 35],
                       [70, 130, 180], [220, 20, 60], [0, 0, 142]]


@DATASETS.register_module()
class CityscapesMTANDataset(NYUDv2MTANDataset):
    """Cityscapes, MTAN / MTPSL preprocessing (128 x 256, 2975 / 500 images).

    Layout (``data_root`` = e.g. ``data/cityscapes_mtan``)::

        {train,val}/image/{i}.npy     H x W x 3 float in [0, 1], RGB
        {train,val}/label_7/{i}.npy   H x W float, 0..6, -1 = ignore
        {train,val}/depth/{i}.npy     H x W x 1 float (MTAN's disparity-
                                      derived units, not metres), 0 = invalid

    Row ``i`` of ``cityscapes_onelabel.pth`` (2975 x [semseg, depth]) labels
    file ``i``.
    """

    METAINFO = dict(
        classes=CITYSCAPES7_CLASSES,
        palette=CITYSCAPES7_PALETTE,
        tasks=('semseg', 'depth'),
        task_channels=dict(semseg=7, depth=1))
    TASK_FOLDERS = dict(semseg='label_7', depth='depth')
