"""Loss for surface normals."""
import torch.nn.functional as F
from torch import Tensor, nn

from mmdmtl.registry import MODELS

from .utils import masked_mean_per_sample, reduce_per_sample


@MODELS.register_module()
class NormalL1Loss(nn.Module):
    """Loss on L2-normalised normal predictions over valid pixels.

    A pixel is valid when its target is not the zero vector. ``mode='l1'``
    (the official code) sums the absolute error of the three components
    and averages over valid pixels; ``mode='cosine'`` averages
    ``1 - cos(pred, target)``.

    Args:
        loss_weight: Multiplier of the loss.
        mode: ``'l1'`` or ``'cosine'``.
        reduction: ``'none'`` (per-sample), ``'mean'`` or ``'sum'``.
        loss_name: Name for logging.
    """

    def __init__(self, loss_weight: float = 1.0, mode: str = 'l1', reduction: str = 'none',
                 loss_name: str = 'loss_normal') -> None:
        super().__init__()
        if mode not in ('l1', 'cosine'):
            raise ValueError(f'NormalL1Loss: mode must be l1 or cosine, got {mode!r}')
        self.loss_weight = loss_weight
        self.mode = mode
        self.reduction = reduction
        self._loss_name = loss_name

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        """(N, 3, H, W) raw prediction, (N, 3, H, W) target -> loss."""
        if pred.shape != target.shape or pred.shape[1] != 3:
            raise ValueError(f'NormalL1Loss: need (N, 3, H, W) pred and target, got '
                             f'{tuple(pred.shape)} and {tuple(target.shape)}')
        valid = (target != 0).any(dim=1)
        pred = F.normalize(pred, dim=1, eps=1e-12)
        if self.mode == 'l1':
            pix = (pred - target).abs().sum(dim=1)
        else:
            pix = 1.0 - (pred * F.normalize(target, dim=1, eps=1e-12)).sum(dim=1)
        loss = masked_mean_per_sample(pix, valid)
        return self.loss_weight * reduce_per_sample(loss, self.reduction)

    @property
    def loss_name(self) -> str:
        """Name of the loss item."""
        return self._loss_name
