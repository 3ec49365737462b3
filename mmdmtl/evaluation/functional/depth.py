"""Dataset-pooled depth error statistics.

The multi-task literature (DiffusionMTL's ``DepthMeter``, MTPSL's
``depth_error``) pools depth errors over **all valid pixels of the whole
set**, not per image. mmseg's ``DepthMetric`` averages per image, so its
numbers are not comparable. Here every image contributes additive sufficient
statistics (:func:`depth_statistics`); the metrics are computed once from
their sum (:func:`depth_metrics_from_statistics`), which makes the result
independent of batch size and process count.

Non-finite predictions: a NaN or +-inf predicted depth at a pixel with valid
ground truth is counted (``nonfinite``) and makes **every** metric of the set
NaN. A non-finite output is a failure of the model; scoring it as some
number (NaN fails every ``ratio < 1.25`` test, ``-inf`` would be clamped to
``pred_min``) could hide the failure or even improve a score.
"""
from typing import Dict, Optional

import numpy as np
import torch

#: Order of the entries of the statistics vector.
DEPTH_STAT_KEYS = ('n', 'abs', 'sq', 'abs_rel', 'sq_rel', 'log_sq', 'd1', 'd2', 'd3',
                   'nonfinite')
#: Metric names returned by :func:`depth_metrics_from_statistics`.
DEPTH_METRIC_NAMES = ('absErr', 'rmse', 'abs_rel', 'sq_rel', 'log_rmse', 'd1', 'd2', 'd3')
#: Order of the entries :func:`depth_statistics` appends with a ``disc`` mask.
DEPTH_DISC_STAT_KEYS = ('disc_n', 'disc_abs', 'off_n', 'off_abs')
#: Extra names with a discontinuity mask: absErr at / off the ground truth's
#: discontinuities and the percentage of valid pixels at them.
DEPTH_DISC_NAMES = ('absErr_at_disc', 'absErr_off_disc', 'disc_pct')


def depth_valid_mask(gt: torch.Tensor,
                     min_depth: Optional[float] = None,
                     max_depth: Optional[float] = None) -> torch.Tensor:
    """Pixels whose ground-truth depth is usable.

    Args:
        gt: Ground-truth depth in metres, any shape.
        min_depth: If given, pixels with ``gt < min_depth`` are invalid.
        max_depth: If given, pixels with ``gt > max_depth`` are invalid.

    Returns:
        Bool tensor of ``gt``'s shape: finite, strictly positive (0 marks
        missing depth) and inside the optional range.
    """
    valid = torch.isfinite(gt) & (gt > 0)
    if min_depth is not None:
        valid &= gt >= min_depth
    if max_depth is not None:
        valid &= gt <= max_depth
    return valid


def depth_statistics(pred: torch.Tensor,
                     gt: torch.Tensor,
                     min_depth: Optional[float] = None,
                     max_depth: Optional[float] = None,
                     pred_min: float = 1e-9,
                     disc: Optional[torch.Tensor] = None) -> np.ndarray:
    """Additive error statistics of one depth map.

    Predictions are clamped to at least ``pred_min`` before any metric (as
    DiffusionMTL sets ``pred <= 0`` to 1e-9), so logarithms and ratios stay
    finite.

    Args:
        pred: Predicted depth in metres, same shape as ``gt``.
        gt: Ground-truth depth in metres; 0, NaN and inf are invalid.
        min_depth: Optional lower bound of valid ground truth.
        max_depth: Optional upper bound of valid ground truth.
        pred_min: Lower clamp applied to predictions.
        disc: Optional bool mask of ``gt``'s shape (or its last two
            dimensions) of the pixels near a ground-truth discontinuity
            (:func:`~.discontinuity.discontinuity_mask`).

    Returns:
        float64 array ordered as :data:`DEPTH_STAT_KEYS`: the number of valid
        pixels, then the sums of ``|p-g|``, ``(p-g)^2``, ``|p-g|/g``,
        ``(p-g)^2/g``, ``(ln p - ln g)^2`` and the counts of
        ``max(p/g, g/p) < 1.25^k`` for k = 1, 2, 3, and the number of valid
        pixels whose prediction is not finite (``nonfinite``); with ``disc``
        followed by :data:`DEPTH_DISC_STAT_KEYS`: the number of valid pixels
        at the discontinuities and their summed ``|p-g|``, then the same off
        them.

    Raises:
        ValueError: if the shapes differ, or ``disc`` does not match them.
    """
    if pred.shape != gt.shape:
        raise ValueError(f'depth prediction shape {tuple(pred.shape)} differs from '
                         f'ground truth shape {tuple(gt.shape)}')
    if disc is not None and tuple(disc.shape) not in (tuple(gt.shape), tuple(gt.shape[-2:])):
        raise ValueError(f'depth_statistics: disc mask {tuple(disc.shape)} does not match '
                         f'the map {tuple(gt.shape)}')
    valid = depth_valid_mask(gt, min_depth, max_depth)
    g = gt[valid].double()
    p = pred[valid].double()
    nonfinite = (~torch.isfinite(p)).sum().double()
    p = p.clamp(min=pred_min)
    diff = p - g
    ratio = torch.maximum(p / g, g / p)
    log_diff = torch.log(p) - torch.log(g)
    stats = torch.stack([
        torch.tensor(float(g.numel()), dtype=torch.float64),
        diff.abs().sum(),
        (diff * diff).sum(),
        (diff.abs() / g).sum(),
        (diff * diff / g).sum(),
        (log_diff * log_diff).sum(),
        (ratio < 1.25).sum().double(),
        (ratio < 1.25**2).sum().double(),
        (ratio < 1.25**3).sum().double(),
        nonfinite,
    ])
    if disc is not None:
        at = disc.expand_as(valid)[valid]
        err = diff.abs()
        stats = torch.cat([stats, torch.stack([
            at.sum().double(), err[at].sum(), (~at).sum().double(), err[~at].sum()])])
    return stats.cpu().numpy()


def depth_metrics_from_statistics(stats: np.ndarray) -> Dict[str, float]:
    """Turn summed :func:`depth_statistics` into metrics.

    Args:
        stats: Sum over images of :func:`depth_statistics` vectors (all with
            or all without the ``disc`` entries).

    Returns:
        ``absErr`` (mean absolute error, the paper's NYUD/Cityscapes metric),
        ``rmse``, ``abs_rel``, ``sq_rel``, ``log_rmse`` (natural log) and
        ``d1``/``d2``/``d3`` (fraction in [0, 1] of pixels with
        ``max(p/g, g/p)`` below 1.25, 1.25², 1.25³, as mmseg's
        ``DepthMetric``); with the ``disc`` entries also
        :data:`DEPTH_DISC_NAMES` (a mean is NaN where it has no pixel). All
        NaN if there is no valid pixel or if any valid pixel has a non-finite
        prediction (``stats['nonfinite'] > 0``).
    """
    stats = np.asarray(stats, dtype=np.float64)
    with_disc = stats.shape[-1] == len(DEPTH_STAT_KEYS) + len(DEPTH_DISC_STAT_KEYS)
    s = dict(zip(DEPTH_STAT_KEYS + DEPTH_DISC_STAT_KEYS, stats))
    n = s['n']
    names = DEPTH_METRIC_NAMES + (DEPTH_DISC_NAMES if with_disc else ())
    if n <= 0 or s.get('nonfinite', 0.0) != 0:
        return {k: float('nan') for k in names}
    out = {
        'absErr': float(s['abs'] / n),
        'rmse': float(np.sqrt(s['sq'] / n)),
        'abs_rel': float(s['abs_rel'] / n),
        'sq_rel': float(s['sq_rel'] / n),
        'log_rmse': float(np.sqrt(s['log_sq'] / n)),
        'd1': float(s['d1'] / n),
        'd2': float(s['d2'] / n),
        'd3': float(s['d3'] / n),
    }
    if with_disc:
        for key, part in (('absErr_at_disc', 'disc'), ('absErr_off_disc', 'off')):
            count = s[f'{part}_n']
            out[key] = float(s[f'{part}_abs'] / count) if count else float('nan')
        out['disc_pct'] = float(100.0 * s['disc_n'] / n)
    return out

