"""Boundary maps from label maps (PASCAL-Context edge ground truth).

The ATRC / ASTMT PASCAL-Context pipeline derives its boundary ground truth
from the PASCAL-Context ``LabelMap`` (``pascal-context/trainval/<id>.mat``):
pixels where the 3x3 Laplacian of the label map is non-zero, thinned to
one-pixel-wide curves. :func:`label_map_to_edges` reproduces that with
OpenCV's Laplacian and :func:`thin`, a vectorised implementation of the
two-subiteration thinning algorithm of Guo and Hall (1989), written from its
published definition.
"""
import cv2
import numpy as np

# Neighbour offsets (dy, dx) in the order x1..x8 of Guo & Hall:
# east, north-east, north, north-west, west, south-west, south, south-east.
_NEIGHBOURS = ((0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1), (1, 0),
               (1, 1))


def _build_tables() -> np.ndarray:
    """Deletion lookup tables of the two subiterations, indexed by the
    8-bit neighbourhood code ``sum(x_i << (i - 1))``."""
    tables = np.zeros((2, 256), dtype=bool)
    for code in range(256):
        x = [(code >> i) & 1 for i in range(8)]  # x[0] = x1 ... x[7] = x8

        def xi(i: int) -> int:  # 1-based, cyclic
            return x[(i - 1) % 8]

        # G1: crossing number equals 1
        xh = sum(1 for i in range(1, 5)
                 if xi(2 * i - 1) == 0 and (xi(2 * i) or xi(2 * i + 1)))
        # G2: 2 <= min(n1, n2) <= 3
        n1 = sum(1 for k in range(1, 5) if xi(2 * k - 1) or xi(2 * k))
        n2 = sum(1 for k in range(1, 5) if xi(2 * k) or xi(2 * k + 1))
        g12 = xh == 1 and 2 <= min(n1, n2) <= 3
        # G3 (first subiteration) and G3' (second)
        g3 = ((xi(2) or xi(3) or not xi(8)) and xi(1)) == 0
        g3p = ((xi(6) or xi(7) or not xi(4)) and xi(5)) == 0
        tables[0, code] = g12 and g3
        tables[1, code] = g12 and g3p
    return tables


_TABLES = _build_tables()


def _neighbour_codes(img: np.ndarray) -> np.ndarray:
    padded = np.pad(img, 1)
    h, w = img.shape
    code = np.zeros((h, w), dtype=np.int32)
    for bit, (dy, dx) in enumerate(_NEIGHBOURS):
        code |= padded[1 + dy:1 + dy + h, 1 + dx:1 + dx + w].astype(
            np.int32) << bit
    return code


def thin(mask: np.ndarray, max_iter: int = 1000) -> np.ndarray:
    """Thin a binary mask to one-pixel-wide curves (Guo-Hall).

    Args:
        mask: ``(H, W)`` array; non-zero pixels are foreground.
        max_iter: Safety cap on the number of full iterations.

    Returns:
        ``(H, W)`` bool array.
    """
    img = np.asarray(mask).astype(bool).astype(np.uint8)
    for _ in range(max_iter):
        changed = False
        for table in _TABLES:
            delete = table[_neighbour_codes(img)] & (img == 1)
            if delete.any():
                img[delete] = 0
                changed = True
        if not changed:
            break
    return img.astype(bool)


def label_map_to_edges(label_map: np.ndarray) -> np.ndarray:
    """Thin semantic boundaries of a label map, as 0/1 ``uint8``.

    Args:
        label_map: ``(H, W)`` integer label map.

    Returns:
        ``(H, W)`` ``uint8`` map, 1 on boundaries.
    """
    lap = cv2.Laplacian(np.asarray(label_map, dtype=np.float64), cv2.CV_64F)
    return thin(np.abs(lap) > 0).astype(np.uint8)
