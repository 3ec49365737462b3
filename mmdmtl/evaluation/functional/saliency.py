"""Saliency maxF pooled over the whole set (the ASTMT/InvPT/DiffusionMTL
meter definition).

At each threshold the true positives, predicted positives and actual
positives of all valid pixels of the set are summed; precision and recall
come from these sums, ``F = (1 + b2) P R / (b2 P + R)`` with ``b2 = 0.3``,
and maxF is the best F over the thresholds (NaN F counts as 0).

Non-finite predictions: a NaN probability is below every threshold, so it
would be scored as a confident "not salient" (a free true negative). Instead
the valid pixels with a non-finite prediction (NaN or +-inf) are counted and
make maxF NaN: a non-finite output is a failure and must never improve a
score.
"""
from typing import Dict

import numpy as np
import torch


def saliency_thresholds(step: float = 0.05) -> torch.Tensor:
    """``arange(step, 1, step)`` in float32, as the reference meter builds it
    (19 thresholds for the default step)."""
    return torch.arange(step, 1, step, dtype=torch.float32)


def saliency_statistics(prob: torch.Tensor,
                        gt: torch.Tensor,
                        thresholds: torch.Tensor,
                        ignore_index: int = 255,
                        sigmoid_quirk: bool = False) -> np.ndarray:
    """Per-threshold counts of one saliency map.

    Args:
        prob: ``(H, W)`` (or any shape equal to ``gt``) saliency probability.
        gt: Ground truth with values 0/1 and ``ignore_index``.
        thresholds: 1-D thresholds; a pixel is positive when ``prob >= t``.
        ignore_index: Ground-truth value of pixels to skip.
        sigmoid_quirk: Apply a sigmoid to ``prob`` before thresholding, as the
            released DiffusionMTL/InvPT meters do on already-normalised
            probabilities (effective thresholds become
            ``logit(t)``; every ``t <= 0.5`` selects all pixels). Off by
            default: that is a bug of the reference code, not the protocol.

    Returns:
        int64 array ``(T, 5)``: true positives, predicted positives, actual
        positives and (repeated on every row) the number of valid pixels and
        the number of valid pixels with a non-finite prediction.
    """
    if prob.shape != gt.shape:
        raise ValueError(f'saliency prediction {tuple(prob.shape)} and ground truth '
                         f'{tuple(gt.shape)} differ in shape')
    valid = gt != ignore_index
    p = prob[valid].float()
    nonfinite = (~torch.isfinite(p)).sum()
    if sigmoid_quirk:
        p = torch.sigmoid(p)
    g = gt[valid] > 0
    pos = p[None, :] >= thresholds.to(p.device)[:, None]
    tp = (pos & g[None, :]).sum(dim=1)
    pp = pos.sum(dim=1)
    ap = g.sum().expand_as(tp)
    nv = torch.tensor(g.numel()).expand_as(tp)
    bad = nonfinite.to(tp.device).expand_as(tp)
    return torch.stack([tp, pp, ap, nv, bad], dim=1).cpu().numpy().astype(np.int64)


def saliency_max_f(counts: np.ndarray, beta_sq: float = 0.3) -> Dict[str, float]:
    """maxF (percent) from summed :func:`saliency_statistics`.

    Returns:
        ``maxF`` and the threshold index ``best`` it was reached at; ``maxF``
        is NaN (``best`` -1) when the set has no valid pixel or any valid
        pixel has a non-finite prediction (5th column > 0).
    """
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 2 or counts.shape[0] == 0 or counts[0, 3] == 0:
        return dict(maxF=float('nan'), best=-1)
    if counts.shape[1] > 4 and counts[0, 4] > 0:
        return dict(maxF=float('nan'), best=-1)
    tp, pp, ap = counts.T[:3]
    with np.errstate(divide='ignore', invalid='ignore'):
        precision = tp / pp
        recall = tp / ap
        f = (1 + beta_sq) * precision * recall / (beta_sq * precision + recall)
    f = np.nan_to_num(f, nan=0.0)
    best = int(np.argmax(f))
    return dict(maxF=float(100.0 * f[best]), best=best)
