"""Boundary detection evaluation (odsF / oisF / AP) in numpy and scipy.

This re-implements the BSDS / SEISM protocol that the multi-task literature
uses through MATLAB (``evaluation_bdry_image`` + ``collect_eval_bdry`` of the
Berkeley benchmark, wrapped by SEISM):

1. For each threshold ``t`` (HED style: ``n`` values ``k / (n + 1)``) the
   probability map is binarised with ``prob >= t``.
2. The binary map is thinned to one-pixel-wide curves with the
   Lam-Lee-Suen parallel thinning algorithm that MATLAB's
   ``bwmorph(bmap, 'thin', Inf)`` implements
   (:func:`mmdmtl.utils.thinning.thin_binary`).
3. Predicted and ground-truth boundary pixels are put in one-to-one
   correspondence: two pixels may match when their Euclidean distance is at
   most ``max_dist * sqrt(H^2 + W^2)`` (0.0075 for PASCAL-Context, 0.011 for
   NYUD). We compute a **maximum-cardinality bipartite matching** on that
   candidate graph (as a unit-capacity maximum flow solved with Dinic's
   algorithm, :func:`match_boundary_pixels`).
4. Per image and threshold we keep ``cntR`` (matched ground-truth pixels),
   ``sumR`` (ground-truth pixels), ``cntP`` (matched predicted pixels) and
   ``sumP`` (predicted pixels); ODS / OIS / AP follow ``collect_eval_bdry``
   (:func:`boundary_scores`).

Differences to the MATLAB tool (documented, not hidden):

* ``correspondPixels`` solves a min-cost assignment (Goldberg's CSA) on a
  sparse graph with high-cost outlier nodes. Because an unmatched pixel costs
  far more than any match, its optimum has maximum cardinality, which is
  exactly what we compute; only the identity of matched pairs may differ,
  and it does not enter the scores. CSA's sparse random outlier edges can in
  rare cases lose a match; we never do, so our counts are an upper bound
  that is equal in practice.
* AP interpolates precision on the unique recall values (first occurrence,
  numpy's ``unique``); very old MATLAB versions keep the last occurrence.
* Ground truth is used as given (a pixel is a boundary pixel iff its value
  is 1); pixels marked ignore (255) are removed from both the ground truth
  and the prediction, so padding cannot create false positives.
"""
from typing import Dict, Optional, Sequence

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow

from mmdmtl.utils.thinning import thin_binary

#: Column order of the per-threshold counts.
COUNT_KEYS = ('cntR', 'sumR', 'cntP', 'sumP')


def hed_thresholds(num: int = 99) -> np.ndarray:
    """The ``num`` thresholds ``1/(num+1) ... num/(num+1)`` of HED / BSDS."""
    if num < 1:
        raise ValueError(f'the number of thresholds must be >= 1, got {num}')
    return np.linspace(1.0 / (num + 1), 1.0 - 1.0 / (num + 1), num)


def _disc_offsets(radius: float) -> np.ndarray:
    r = int(np.ceil(radius))
    dy, dx = np.mgrid[-r:r + 1, -r:r + 1]
    keep = dy * dy + dx * dx <= radius * radius
    return np.stack([dy[keep], dx[keep]], axis=1)


def match_boundary_pixels(pred: np.ndarray, gt: np.ndarray, radius: float) -> int:
    """Size of a maximum one-to-one matching of boundary pixels.

    Args:
        pred: ``(H, W)`` bool predicted boundary pixels.
        gt: ``(H, W)`` bool ground-truth boundary pixels.
        radius: Maximum Euclidean distance (pixels) between matched pixels.

    Returns:
        The number of matched pairs (= matched predicted pixels = matched
        ground-truth pixels).
    """
    if pred.shape != gt.shape:
        raise ValueError(f'boundary prediction {pred.shape} and ground truth {gt.shape} '
                         'differ in shape')
    py, px = np.nonzero(pred)
    gy, gx = np.nonzero(gt)
    if py.size == 0 or gy.size == 0:
        return 0
    offsets = _disc_offsets(radius)
    r = int(np.ceil(radius))
    h, w = gt.shape
    gid = np.full((h + 2 * r, w + 2 * r), -1, dtype=np.int64)
    gid[gy + r, gx + r] = np.arange(gy.size)
    cols = gid[py[:, None] + offsets[None, :, 0] + r, px[:, None] + offsets[None, :, 1] + r]
    ok = cols >= 0
    if not ok.any():
        return 0
    rows = np.nonzero(ok)[0]
    # Unit-capacity flow network source -> pred -> gt -> sink; its maximum
    # flow (Dinic) is the maximum matching size. scipy's Hopcroft-Karp
    # (maximum_bipartite_matching) is 100-1000x slower on these dense,
    # near-perfect unit-disk graphs.
    n_p, n_g = py.size, gy.size
    source, sink = n_p + n_g, n_p + n_g + 1
    src = np.concatenate([np.full(n_p, source), rows, n_p + np.arange(n_g)])
    dst = np.concatenate([np.arange(n_p), n_p + cols[ok], np.full(n_g, sink)])
    graph = csr_matrix((np.ones(src.size, dtype=np.int32), (src, dst)),
                       shape=(n_p + n_g + 2, n_p + n_g + 2))
    return int(maximum_flow(graph, source, sink, method='dinic').flow_value)


def boundary_counts(prob: np.ndarray,
                    gt: np.ndarray,
                    thresholds: Sequence[float],
                    max_dist: float = 0.0075,
                    thin: bool = True,
                    ignore_mask: Optional[np.ndarray] = None) -> np.ndarray:
    """Per-threshold match counts of one image.

    Thresholds that select the same set of pixels (nested sets of equal size)
    share one thinning and matching, so binary or quantised predictions are
    cheap.

    Args:
        prob: ``(H, W)`` boundary probabilities in [0, 1].
        gt: ``(H, W)`` bool ground-truth boundary pixels.
        thresholds: Increasing thresholds; a pixel is predicted at ``t`` when
            ``prob >= t``.
        max_dist: Matching tolerance as a fraction of the image diagonal.
        thin: Thin every binarised prediction (the BSDS default).
        ignore_mask: Optional ``(H, W)`` bool map of pixels to ignore.

    Returns:
        int64 array ``(len(thresholds), 4)`` with columns
        :data:`COUNT_KEYS` = ``cntR, sumR, cntP, sumP``.
    """
    prob = np.asarray(prob, dtype=np.float64)
    gt = np.asarray(gt, dtype=bool)
    if prob.shape != gt.shape or prob.ndim != 2:
        raise ValueError(f'boundary prediction {prob.shape} and ground truth {gt.shape} '
                         'must be equal (H, W) maps')
    thr = np.asarray(thresholds, dtype=np.float64)
    if ignore_mask is not None:
        keep = ~np.asarray(ignore_mask, dtype=bool)
        gt = gt & keep
        prob = np.where(keep, prob, -np.inf)
    h, w = gt.shape
    radius = max_dist * float(np.hypot(h, w))
    sum_r = int(gt.sum())
    out = np.zeros((thr.size, 4), dtype=np.int64)
    out[:, 1] = sum_r
    # Number of selected pixels per threshold identifies nested sets.
    sorted_vals = np.sort(prob.ravel())
    sizes = sorted_vals.size - np.searchsorted(sorted_vals, thr, side='left')
    levels, first, inverse = np.unique(sizes, return_index=True, return_inverse=True)
    nonempty = levels > 0
    uniq_thr = thr[first[nonempty]]
    if uniq_thr.size:
        bmaps = prob[None] >= uniq_thr[:, None, None]
        if thin:
            bmaps = thin_binary(bmaps)
        per_level = np.zeros((levels.size, 2), dtype=np.int64)
        for i, k in enumerate(np.flatnonzero(nonempty)):
            per_level[k, 0] = match_boundary_pixels(bmaps[i], gt, radius)
            per_level[k, 1] = int(bmaps[i].sum())
        out[:, 0] = per_level[inverse, 0]
        out[:, 2] = per_level[inverse, 0]
        out[:, 3] = per_level[inverse, 1]
    return out


def _prf(cnt_r, sum_r, cnt_p, sum_p):
    r = cnt_r / (sum_r + (sum_r == 0))
    p = cnt_p / (sum_p + (sum_p == 0))
    return r, p, _fmeasure(r, p)


def _fmeasure(r, p):
    return 2 * p * r / (p + r + ((p + r) == 0))


def _interpolated_max_f(thr: np.ndarray, r: np.ndarray, p: np.ndarray):
    """BSDS ``maxF``: best F on the piecewise-linear R/P curve."""
    best = (float(thr[0]), float(r[0]), float(p[0]), float(_fmeasure(r[0], p[0])))
    if thr.size < 2:
        return best
    d = np.linspace(0.0, 1.0, 100)[None, :]
    ti = thr[1:, None] * d + thr[:-1, None] * (1 - d)
    ri = r[1:, None] * d + r[:-1, None] * (1 - d)
    pi = p[1:, None] * d + p[:-1, None] * (1 - d)
    fi = _fmeasure(ri, pi)
    k = int(np.argmax(fi))  # first maximum in row-major (threshold, d) order
    if fi.flat[k] > best[3]:
        best = (float(ti.flat[k]), float(ri.flat[k]), float(pi.flat[k]), float(fi.flat[k]))
    return best


def boundary_scores(counts: np.ndarray, thresholds: Sequence[float]) -> Dict[str, float]:
    """ODS / OIS F-measures and AP from per-image counts.

    Args:
        counts: ``(N, T, 4)`` stacked :func:`boundary_counts` of N images.
        thresholds: The ``T`` thresholds.

    Returns:
        ``odsF``, ``oisF`` and ``AP`` in percent, plus ``ods_threshold``,
        ``odsR`` and ``odsP``. NaN everywhere when ``N == 0``.
    """
    counts = np.asarray(counts, dtype=np.float64)
    thr = np.asarray(thresholds, dtype=np.float64)
    if counts.ndim != 3 or counts.shape[0] == 0:
        nan = float('nan')
        return dict(odsF=nan, oisF=nan, AP=nan, ods_threshold=nan, odsR=nan, odsP=nan)
    total = counts.sum(axis=0)
    r, p, _ = _prf(*total.T)
    t_best, r_best, p_best, f_best = _interpolated_max_f(thr, r, p)
    # OIS: per image, counts at its best (first maximal) threshold.
    _, _, f_img = _prf(*np.moveaxis(counts, 2, 0))
    best_idx = np.argmax(f_img, axis=1)
    at_best = counts[np.arange(counts.shape[0]), best_idx].sum(axis=0)
    _, _, f_ois = _prf(*at_best)
    # AP: area under the interpolated P(R) curve on R in [0, 1] step 0.01.
    r_unique, first = np.unique(r, return_index=True)
    if r_unique.size > 1:
        ri = np.linspace(0.0, 1.0, 101)
        pi = np.interp(ri, r_unique, p[first])
        pi[(ri < r_unique[0]) | (ri > r_unique[-1])] = 0.0
        ap = float(pi.sum() * 0.01)
    else:
        ap = 0.0
    return dict(odsF=100.0 * f_best, oisF=100.0 * float(f_ois), AP=100.0 * ap,
                ods_threshold=t_best, odsR=100.0 * r_best, odsP=100.0 * p_best)
