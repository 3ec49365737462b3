"""The published partial-label split files, shipped with mmdmtl.

The five files of this folder are the MTPSL split files (MIT licence, see
``LICENSE.MTPSL`` and ``PROVENANCE.md``), byte-identical to the copies that
DiffusionMTL distributes. Select one by name in a config::

    train_dataloader = dict(dataset=dict(split_file='nyuv2_onelabel'))

:func:`published_split_path` maps a name to the file;
:data:`PUBLISHED_SPLITS` lists the names with their source path and SHA-256.
"""
import os.path as osp
from typing import Dict, Optional

#: Folder of the shipped split files.
SPLITS_DIR = osp.dirname(osp.abspath(__file__))

#: name -> (file name here, path in VICO-UoE/MTPSL @e9d8859, SHA-256).
PUBLISHED_SPLITS: Dict[str, tuple] = {
    'nyuv2_onelabel': (
        'nyuv2_onelabel.pth', 'data/nyuv2_settings/onelabel.pth',
        '757b3a95e1bc5145c1e72a783a489539f4c52004de338cb9798d8e227df6f389'),
    'nyuv2_randomlabels': (
        'nyuv2_randomlabels.pth', 'data/nyuv2_settings/randomlabels.pth',
        '54e7bcbb739bb071d097fd77e4654ab830daeea41730fadaf0a4741ac7436a12'),
    'cityscapes_onelabel': (
        'cityscapes_onelabel.pth', 'data/cityscapes_settings/onelabel.pth',
        '3ded35572b875fc36865354418b7f3c1ef23628d00987f8b5d260de8f0aa90d0'),
    'pascal_onelabel': (
        'pascal_onelabel.npy', 'data/pascal_settings/onelabel.npy',
        '527915d7728b4e9c39ec3651a54c68c1a37851108024e5f715150b049d62681e'),
    'pascal_randomlabels': (
        'pascal_randomlabels.npy', 'data/pascal_settings/randomlabels.npy',
        '65247182ffdcc79e6c6be54ad2332cd4a2fa3b1d013305a02dd204b0e3f68a79'),
}


def published_split_path(name: str) -> Optional[str]:
    """Path of the shipped split file called ``name``, else ``None``.

    ``name`` is one of :data:`PUBLISHED_SPLITS` (``'nyuv2_onelabel'``) or its
    file name (``'nyuv2_onelabel.pth'``).
    """
    name = str(name)
    for key, (fname, _, _) in PUBLISHED_SPLITS.items():
        if name in (key, fname):
            return osp.join(SPLITS_DIR, fname)
    return None
