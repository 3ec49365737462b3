"""Per-sample cross-entropy for multi-task segmentation targets."""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmdmtl.registry import MODELS

from .utils import masked_mean_per_sample, reduce_per_sample


@MODELS.register_module()
class MTLCrossEntropyLoss(nn.Module):
    """Cross-entropy averaged over each sample's valid pixels.

    Used for ``semseg`` and ``parts``. Pixels equal to ``ignore_index``
    are skipped; a sample without valid pixels contributes 0.

    Args:
        loss_weight: Multiplier of the loss.
        ignore_index: Label to ignore.
        class_weight: Optional per-class weights.
        reduction: ``'none'`` (per-sample vector, what the heads use),
            ``'mean'`` or ``'sum'``.
        loss_name: Name for logging.

    Example:
        >>> loss = MTLCrossEntropyLoss(loss_weight=1.0)
        >>> loss(torch.zeros(2, 3, 4, 4), torch.zeros(2, 1, 4, 4).long()).shape
        torch.Size([2])
    """

    def __init__(self, loss_weight: float = 1.0, ignore_index: int = 255,
                 class_weight: Optional[Sequence[float]] = None, reduction: str = 'none',
                 loss_name: str = 'loss_ce') -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self.ignore_index = ignore_index
        self.class_weight = class_weight
        self.reduction = reduction
        self._loss_name = loss_name

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        """(N, C, H, W) logits, (N, 1, H, W) or (N, H, W) int labels -> loss."""
        if target.dim() == 4:
            target = target[:, 0]
        target = target.long()
        valid = target != self.ignore_index
        weight = None
        if self.class_weight is not None:
            weight = pred.new_tensor(self.class_weight)
        pix = F.cross_entropy(pred, torch.where(valid, target, 0), weight=weight,
                              reduction='none')
        loss = masked_mean_per_sample(pix, valid)
        return self.loss_weight * reduce_per_sample(loss, self.reduction)

    @property
    def loss_name(self) -> str:
        """Name of the loss item."""
        return self._loss_name
