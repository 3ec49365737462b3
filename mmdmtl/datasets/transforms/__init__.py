"""Transforms for multi-task samples with partial labels."""
from .annotation_readers import (
                                 AnnotationReadError,
                                 decode_binary,
                                 decode_depth,
                                 decode_label,
                                 decode_normal,
                                 decode_pascal_parts,
                                 normalize_normals,
                                 read_file,
)
from .edge_utils import label_map_to_edges, thin
from .formatting import PackMTLInputs
from .geometric import MTLPad, MTLRandomCrop, MTLRandomFlip, MTLRandomResize, MTLResize
from .image_values import ImageValueWarning, image_to_uint8
from .inference import MTLInferencerLoader, MTLResizeToFit
from .loading import (
                                 LoadMultiTaskAnnotations,
                                 LoadMultiTaskImage,
                                 has_valid_pixels,
                                 make_invalid_target,
)

__all__ = [
    'AnnotationReadError', 'read_file', 'decode_label', 'decode_binary', 'decode_depth',
    'decode_normal', 'decode_pascal_parts', 'normalize_normals', 'thin',
    'label_map_to_edges', 'LoadMultiTaskImage', 'LoadMultiTaskAnnotations',
    'make_invalid_target', 'has_valid_pixels', 'MTLResize', 'MTLRandomResize',
    'MTLRandomCrop', 'MTLRandomFlip', 'MTLPad', 'PackMTLInputs', 'ImageValueWarning',
    'image_to_uint8', 'MTLInferencerLoader', 'MTLResizeToFit'
]
