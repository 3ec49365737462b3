"""Helpers shared by the per-sample dense losses."""
from torch import Tensor


def masked_mean_per_sample(loss_map: Tensor, valid: Tensor) -> Tensor:
    """Mean of ``loss_map`` over the ``valid`` pixels of each sample.

    Args:
        loss_map: (N, ...) per-pixel loss.
        valid: (N, ...) bool / 0-1 mask of the same shape.

    Returns:
        (N,) losses; a sample with no valid pixel gets 0 (never NaN).
    """
    valid = valid.to(loss_map.dtype)
    loss_map = loss_map * valid  # also zeroes NaN-free garbage at invalid pixels
    dims = tuple(range(1, loss_map.dim()))
    total = loss_map.sum(dim=dims)
    count = valid.sum(dim=dims)
    return total / count.clamp(min=1.0)


def reduce_per_sample(loss: Tensor, reduction: str) -> Tensor:
    """Reduce an (N,) per-sample loss: ``'none'``, ``'mean'`` or ``'sum'``."""
    if reduction == 'none':
        return loss
    if reduction == 'mean':
        return loss.mean() if loss.numel() else loss.sum()
    if reduction == 'sum':
        return loss.sum()
    raise ValueError(f'unknown reduction {reduction!r}; use none, mean or sum')
