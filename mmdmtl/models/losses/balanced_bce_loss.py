"""Class-balanced binary cross-entropy for edges and saliency."""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmdmtl.registry import MODELS

from .utils import masked_mean_per_sample, reduce_per_sample


@MODELS.register_module()
class BalancedBCELoss(nn.Module):
    """Weighted binary cross-entropy on logits over valid pixels.

    Positive pixels are weighted by ``w`` and negatives by ``1 - w``. With
    a fixed ``pos_weight`` (0.95 for edges in the official code) ``w`` is
    that value; with ``pos_weight=None`` it is each sample's fraction of
    negative valid pixels (class balancing, used for saliency). Pixels equal
    to ``ignore_index`` are skipped; the loss is averaged over valid pixels.

    Args:
        pos_weight: Fixed positive weight in (0, 1), or None to balance.
        loss_weight: Multiplier of the loss.
        ignore_index: Target value to ignore.
        reduction: ``'none'`` (per-sample), ``'mean'`` or ``'sum'``.
        loss_name: Name for logging.
    """

    def __init__(self, pos_weight: Optional[float] = 0.95, loss_weight: float = 1.0,
                 ignore_index: int = 255, reduction: str = 'none',
                 loss_name: str = 'loss_bce') -> None:
        super().__init__()
        if pos_weight is not None and not 0 < pos_weight < 1:
            raise ValueError(f'BalancedBCELoss: pos_weight must be in (0, 1), got {pos_weight}')
        self.pos_weight = pos_weight
        self.loss_weight = loss_weight
        self.ignore_index = ignore_index
        self.reduction = reduction
        self._loss_name = loss_name

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        """(N, 1, H, W) logits, (N, 1, H, W) 0/1 target (ignore 255) -> loss."""
        if pred.shape != target.shape:
            raise ValueError(f'BalancedBCELoss: pred {tuple(pred.shape)} and target '
                             f'{tuple(target.shape)} differ')
        valid = target != self.ignore_index
        label = torch.where(valid, target, 0).to(pred.dtype)
        if self.pos_weight is None:
            dims = tuple(range(1, label.dim()))
            n_valid = valid.sum(dim=dims).clamp(min=1).to(pred.dtype)
            n_pos = (label * valid).sum(dim=dims)
            w = ((n_valid - n_pos) / n_valid).view(-1, *([1] * (label.dim() - 1)))
        else:
            w = pred.new_tensor(self.pos_weight)
        weight = label * w + (1 - label) * (1 - w)
        pix = F.binary_cross_entropy_with_logits(pred, label, weight=weight, reduction='none')
        loss = masked_mean_per_sample(pix, valid)
        return self.loss_weight * reduce_per_sample(loss, self.reduction)

    @property
    def loss_name(self) -> str:
        """Name of the loss item."""
        return self._loss_name
