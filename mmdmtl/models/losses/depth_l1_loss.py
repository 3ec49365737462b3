"""L1 loss for metric depth."""
import torch
from torch import Tensor, nn

from mmdmtl.registry import MODELS

from .utils import masked_mean_per_sample, reduce_per_sample


@MODELS.register_module()
class DepthL1Loss(nn.Module):
    """Absolute depth error averaged over each sample's valid pixels.

    A pixel is valid when its target is finite, ``> 0`` (0 marks invalid
    depth in mmdmtl) and not ``ignore_value`` (255, the padding value of
    mmseg's ``SegDataPreProcessor``; None disables that check).

    Args:
        loss_weight: Multiplier of the loss.
        ignore_value: Additional invalid target value.
        reduction: ``'none'`` (per-sample), ``'mean'`` or ``'sum'``.
        loss_name: Name for logging.
    """

    def __init__(self, loss_weight: float = 1.0, ignore_value: float = 255.0,
                 reduction: str = 'none', loss_name: str = 'loss_depth') -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self.ignore_value = ignore_value
        self.reduction = reduction
        self._loss_name = loss_name

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        """(N, 1, H, W) predicted metres, (N, 1, H, W) target -> loss."""
        if pred.shape != target.shape:
            raise ValueError(f'DepthL1Loss: pred {tuple(pred.shape)} and target '
                             f'{tuple(target.shape)} differ')
        valid = torch.isfinite(target) & (target > 0)
        if self.ignore_value is not None:
            valid &= target != self.ignore_value
        diff = (pred - torch.where(valid, target, pred.detach())).abs()
        loss = masked_mean_per_sample(diff, valid)
        return self.loss_weight * reduce_per_sample(loss, self.reduction)

    @property
    def loss_name(self) -> str:
        """Name of the loss item."""
        return self._loss_name
