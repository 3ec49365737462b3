"""Boundary maps from label maps (PASCAL-Context edge ground truth).

The ATRC / ASTMT PASCAL-Context pipeline derives its boundary ground truth
from the PASCAL-Context ``LabelMap`` (``pascal-context/trainval/<id>.mat``):
pixels where the 3x3 Laplacian of the label map is non-zero, thinned to
one-pixel-wide curves. :func:`label_map_to_edges` reproduces that with
OpenCV's Laplacian and the package's thinning routine
(:func:`mmdmtl.utils.thinning.thin_binary`, the same one the boundary
metric uses).
"""
import cv2
import numpy as np

from mmdmtl.utils.thinning import thin_binary

#: The thinning routine under the name this module has always exported.
thin = thin_binary


def label_map_to_edges(label_map: np.ndarray) -> np.ndarray:
    """Thin semantic boundaries of a label map, as 0/1 ``uint8``.

    Args:
        label_map: ``(H, W)`` integer label map.

    Returns:
        ``(H, W)`` ``uint8`` map, 1 on boundaries.
    """
    lap = cv2.Laplacian(np.asarray(label_map, dtype=np.float64), cv2.CV_64F)
    return thin_binary(np.abs(lap) > 0).astype(np.uint8)
