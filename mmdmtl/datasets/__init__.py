"""Multi-task datasets, partial-label splits and their transforms."""
from . import transforms  # noqa: F401
from .cityscapes_mtan import CityscapesMTANDataset
from .multi_task_dataset import BaseMultiTaskDataset
from .nyud_atrc import NYUDv2ATRCDataset
from .nyud_mtan import NYUDv2MTANDataset
from .partial_labels import (
                             PartialLabelSplit,
                             generate_partial_split,
                             load_partial_split,
                             resolve_split_file,
                             save_partial_split,
)
from .pascal_context_mt import PascalContextMTDataset
from .safe_split_loading import UnsafeSplitFileError
from .splits import PUBLISHED_SPLITS, published_split_path
from .synthetic_indoor import SyntheticIndoorDataset

__all__ = [
    'BaseMultiTaskDataset', 'NYUDv2MTANDataset', 'NYUDv2ATRCDataset', 'PascalContextMTDataset',
    'CityscapesMTANDataset', 'SyntheticIndoorDataset', 'PartialLabelSplit',
    'load_partial_split', 'generate_partial_split', 'save_partial_split',
    'resolve_split_file', 'UnsafeSplitFileError', 'PUBLISHED_SPLITS', 'published_split_path'
]
