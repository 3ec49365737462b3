"""Thinning of binary maps to one-pixel-wide curves.

One routine serves both users: the boundary metric thins each binarised
prediction like MATLAB's ``bwmorph(bmap, 'thin', Inf)`` does in the BSDS
benchmark (:mod:`mmdmtl.evaluation.functional.boundary`), and the
PASCAL-Context edge ground truth is the thinned Laplacian of the label map
(:func:`mmdmtl.datasets.transforms.edge_utils.label_map_to_edges`).

The algorithm is the two-sub-iteration parallel thinning of Guo and Hall
(1989), in the formulation of Lam, Lee and Suen (1992) that MATLAB
implements, written from its published definition: in each sub-iteration
every foreground pixel whose 8-neighbourhood satisfies the conditions G1,
G2 and G3 (first) or G3' (second) is deleted, simultaneously; the two
sub-iterations repeat until neither deletes a pixel.
"""
import numpy as np


def _build_thinning_luts() -> np.ndarray:
    """Deletion look-up tables of the two sub-iterations (Lam et al. 1992).

    The neighbours ``x1..x8`` of a pixel are numbered counter-clockwise from
    the east: E, NE, N, NW, W, SW, S, SE; bit ``i - 1`` of a code is ``x_i``.
    """
    codes = np.arange(256)
    x = [(codes >> i) & 1 for i in range(8)]  # x[0] is x1
    x.append(x[0])  # x9 = x1
    # G1: exactly one 4-connected background-to-foreground transition.
    xh = sum(((x[2 * i] == 0) & ((x[2 * i + 1] == 1) | (x[2 * i + 2] == 1))).astype(int)
             for i in range(4))
    g1 = xh == 1
    # G2: 2 <= min(n1, n2) <= 3.
    n1 = sum((x[2 * k] | x[2 * k + 1]) for k in range(4))
    n2 = sum((x[2 * k + 1] | x[2 * k + 2]) for k in range(4))
    m = np.minimum(n1, n2)
    g2 = (m >= 2) & (m <= 3)
    # G3 (first sub-iteration) and G3' (second).
    g3 = ((x[1] | x[2] | (1 - x[7])) & x[0]) == 0
    g3p = ((x[5] | x[6] | (1 - x[3])) & x[4]) == 0
    return np.stack([g1 & g2 & g3, g1 & g2 & g3p])


_THIN_LUTS = _build_thinning_luts()


def thin_binary(masks: np.ndarray) -> np.ndarray:
    """Thin binary maps to one-pixel-wide curves (MATLAB ``bwmorph thin Inf``).

    The two parallel sub-iterations are repeated until nothing changes. Only
    pixels whose neighbourhood changed since they were last examined are
    re-examined, so the cost grows with the foreground, not the image.

    Args:
        masks: ``(H, W)`` or a stack ``(N, H, W)`` of binary maps; each map of
            a stack is thinned independently.

    Returns:
        Bool array of the input's shape.
    """
    m = np.asarray(masks, dtype=bool)
    if m.ndim not in (2, 3):
        raise ValueError(f'thin_binary expects (H, W) or (N, H, W), got {m.shape}')
    single = m.ndim == 2
    if single:
        m = m[None]
    n, h, w = m.shape
    padded = np.zeros((n, h + 2, w + 2), dtype=bool)
    padded[:, 1:-1, 1:-1] = m
    flat = padded.reshape(-1)
    wp = w + 2
    # x1..x8: E, NE, N, NW, W, SW, S, SE in flat (row-major) offsets.
    offs = np.array([1, -wp + 1, -wp, -wp - 1, -1, wp - 1, wp, wp + 1], dtype=np.int64)
    weights = (1 << np.arange(8)).astype(np.int64)
    # Pixels to (re-)examine under each sub-iteration's rule: initially all
    # foreground, later the neighbours of deleted pixels.
    marks = [flat.copy(), flat.copy()]
    active = [True, True]
    while active[0] or active[1]:
        for sub in (0, 1):
            if not active[sub]:
                continue
            cand = np.flatnonzero(marks[sub])
            marks[sub][cand] = False
            active[sub] = False
            cand = cand[flat[cand]]
            if cand.size == 0:
                continue
            code = flat[cand[:, None] + offs].astype(np.int64) @ weights
            deleted = cand[_THIN_LUTS[sub][code]]
            if deleted.size == 0:
                continue
            flat[deleted] = False
            nbrs = (deleted[:, None] + offs).ravel()
            marks[0][nbrs] = True
            marks[1][nbrs] = True
            active[0] = active[1] = True
    out = padded[:, 1:-1, 1:-1]
    return out[0].copy() if single else out.copy()
