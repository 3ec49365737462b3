"""Surface-normal angular error statistics, pooled over the whole set.

Angles are computed as ``2 * atan2(|p - g|, |p + g|)`` between the
L2-normalised prediction ``p`` and ground truth ``g`` (DiffusionMTL's
formula). It equals ``acos(p . g)`` for unit vectors but keeps full precision
near 0° and 180°, where ``acos`` loses digits.

The median over all valid pixels of the set is obtained from a fine
histogram of angles (default bin width 0.01°). Each image stores only the
non-empty bins (a sparse histogram), so memory is bounded by the number of
distinct bins, not of pixels. The reported median is the mean of the centres
of the bins holding the two middle order statistics, so it is within **half a
bin width** (0.005° by default) of the exact median. An exact mode that keeps
every angle is also provided for small sets.

Non-finite predictions: a predicted vector with a NaN or +-inf component at
a valid pixel has no defined angle. Such pixels are counted (``nonfinite``)
and make **every** statistic of the set NaN -- mean, median, RMSE and the
within-t° percentages agree. (Formerly the median cast a NaN angle to bin 0
and counted it as a perfect 0° pixel.) A non-finite output is a failure of
the model and must never improve a score.
"""
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch

#: Thresholds (degrees) of the "% of pixels within" metrics.
NORMAL_THRESHOLDS = (11.25, 22.5, 30.0)
#: Metric names returned by :func:`normal_metrics_from_statistics`.
NORMAL_METRIC_NAMES = ('mean', 'median', 'rmse') + tuple(f'a{t:g}' for t in NORMAL_THRESHOLDS)
#: Extra names with a discontinuity mask: mean error at / off the ground
#: truth's discontinuities and the percentage of valid pixels at them.
NORMAL_DISC_NAMES = ('mean_at_disc', 'mean_off_disc', 'disc_pct')


def normal_angular_error(pred: torch.Tensor,
                         gt: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Per-pixel angular error in degrees.

    Args:
        pred: ``(3, H, W)`` predicted normals (any length; L2-normalised here,
            a zero vector stays zero and scores 90°).
        gt: ``(3, H, W)`` ground-truth normals; a zero (or non-finite) vector
            marks an invalid pixel.

    Returns:
        ``(angles, valid)``: float64 angles in degrees of the valid pixels
        (1-D) and the ``(H, W)`` bool mask of valid pixels. The angle is NaN
        where the predicted vector has a non-finite component.

    Raises:
        ValueError: if the shapes differ or are not ``(3, H, W)``.
    """
    if pred.shape != gt.shape or pred.dim() != 3 or pred.shape[0] != 3:
        raise ValueError(f'normal prediction {tuple(pred.shape)} and ground truth '
                         f'{tuple(gt.shape)} must both be (3, H, W)')
    g = gt.double()
    g_norm = g.norm(dim=0)
    valid = torch.isfinite(g_norm) & (g_norm > 0)
    g = g[:, valid] / g_norm[valid]
    p = pred[:, valid].double()
    finite = torch.isfinite(p).all(dim=0)
    p = p / p.norm(dim=0).clamp(min=1e-12)
    angles = 2.0 * torch.atan2((p - g).norm(dim=0), (p + g).norm(dim=0))
    # inf / inf and NaN components give NaN; make every non-finite vector NaN
    angles = torch.where(finite, angles, torch.full_like(angles, float('nan')))
    return torch.rad2deg(angles), valid


def normal_statistics(pred: torch.Tensor,
                      gt: torch.Tensor,
                      bin_width: float = 0.01,
                      keep_angles: bool = False,
                      disc: Optional[torch.Tensor] = None) -> dict:
    """Additive statistics of one normal map.

    Args:
        pred: ``(3, H, W)`` predicted normals.
        gt: ``(3, H, W)`` ground-truth normals (zero vector = invalid).
        bin_width: Histogram bin width in degrees for the median.
        keep_angles: Also keep every angle (float64) for an exact median.
        disc: Optional ``(H, W)`` bool mask of the pixels near a ground-truth
            discontinuity (:func:`~.discontinuity.discontinuity_mask`); adds
            the counts and angle sums at (``disc_n``, ``disc_sum``) and off
            (``off_n``, ``off_sum``) those pixels.

    Returns:
        dict with ``n`` (valid pixels), ``nonfinite`` (valid pixels whose
        predicted vector is not finite), ``sum`` and ``sum_sq`` of the
        angles (NaN if ``nonfinite > 0``), ``within`` (counts below each of
        :data:`NORMAL_THRESHOLDS`), ``bins``/``counts`` (sparse histogram of
        the finite angles: uint16 bin indices and int32 counts, 6 bytes per
        non-empty bin, at most ~108 kB per image at the default 0.01 deg
        bins), if requested ``angles`` and, with ``disc``, its four sums.
    """
    angles, valid = normal_angular_error(pred, gt)
    a = angles.cpu().numpy()
    finite = np.isfinite(a)
    af = a[finite]
    num_bins = int(np.ceil(180.0 / bin_width))
    idx = np.minimum((af / bin_width).astype(np.int64), num_bins - 1)
    bins, counts = np.unique(idx, return_counts=True)
    out = dict(
        n=int(a.size),
        nonfinite=int(a.size - af.size),
        sum=float(a.sum()),
        sum_sq=float((a * a).sum()),
        within=np.array([(af < t).sum() for t in NORMAL_THRESHOLDS], dtype=np.int64),
        bins=bins.astype(np.uint16 if num_bins <= 65536 else np.int32),
        counts=counts.astype(np.int32))
    if keep_angles:
        out['angles'] = a
    if disc is not None:
        if tuple(disc.shape) != tuple(valid.shape):
            raise ValueError(f'normal_statistics: disc mask {tuple(disc.shape)} does not match '
                             f'the map {tuple(valid.shape)}')
        at = disc[valid].cpu().numpy()
        out.update(disc_n=int(at.sum()), disc_sum=float(a[at].sum()),
                   off_n=int((~at).sum()), off_sum=float(a[~at].sum()))
    return out


def _median_from_histogram(bins: np.ndarray, counts: np.ndarray, n: int,
                           bin_width: float) -> float:
    order = np.argsort(bins, kind='stable')
    bins, counts = bins[order], counts[order]
    cum = np.cumsum(counts)
    # 0-based ranks of the two middle order statistics (equal when n is odd).
    ranks = np.array([(n - 1) // 2, n // 2])
    pos = np.searchsorted(cum, ranks + 1, side='left')
    centres = (bins[pos] + 0.5) * bin_width
    return float(centres.mean())


def normal_metrics_from_statistics(stats: List[dict],
                                   bin_width: float = 0.01,
                                   exact_median: bool = False) -> Dict[str, float]:
    """Combine per-image :func:`normal_statistics` into set-level metrics.

    Args:
        stats: One dict per image (images with no valid pixel may be
            included; they add nothing).
        bin_width: The bin width used to build the histograms.
        exact_median: Use the stored ``angles`` for an exact median.

    Returns:
        ``mean``, ``median``, ``rmse`` (degrees) and ``a11.25``, ``a22.5``,
        ``a30`` (percent of valid pixels with error below the threshold);
        when every entry has the ``disc`` sums of :func:`normal_statistics`,
        also :data:`NORMAL_DISC_NAMES` (a mean is NaN where it has no pixel).
        All NaN if the set has no valid pixel or if any valid pixel has a
        non-finite prediction (see the module docstring).
    """
    n = sum(s['n'] for s in stats)
    with_disc = bool(stats) and all('disc_n' in s for s in stats)
    names = NORMAL_METRIC_NAMES + (NORMAL_DISC_NAMES if with_disc else ())
    if n == 0 or sum(s.get('nonfinite', 0) for s in stats) > 0:
        return {k: float('nan') for k in names}
    total = sum(s['sum'] for s in stats)
    total_sq = sum(s['sum_sq'] for s in stats)
    within = np.sum([s['within'] for s in stats], axis=0)
    if exact_median:
        median = float(np.median(np.concatenate([s['angles'] for s in stats])))
    else:
        bins = np.concatenate([s['bins'] for s in stats]).astype(np.int64)
        counts = np.concatenate([s['counts'] for s in stats]).astype(np.int64)
        merged_bins, inverse = np.unique(bins, return_inverse=True)
        merged_counts = np.bincount(inverse, weights=counts).astype(np.int64)
        median = _median_from_histogram(merged_bins, merged_counts, n, bin_width)
    out = dict(mean=total / n, median=median, rmse=float(np.sqrt(total_sq / n)))
    for t, c in zip(NORMAL_THRESHOLDS, within):
        out[f'a{t:g}'] = float(100.0 * c / n)
    if with_disc:
        for key, part in (('mean_at_disc', 'disc'), ('mean_off_disc', 'off')):
            count = sum(s[f'{part}_n'] for s in stats)
            out[key] = sum(s[f'{part}_sum'] for s in stats) / count if count else float('nan')
        out['disc_pct'] = float(100.0 * sum(s['disc_n'] for s in stats) / n)
    return out

