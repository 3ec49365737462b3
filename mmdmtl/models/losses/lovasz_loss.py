"""Per-sample Lovász-softmax loss, vectorised over the batch."""
import torch
from torch import Tensor, nn

from mmdmtl.registry import MODELS

from .utils import reduce_per_sample


def lovasz_softmax_per_sample(probs: Tensor, target: Tensor, ignore_index: int = 255,
                              present_only: bool = True) -> Tensor:
    """Lovász-softmax (Berman et al., CVPR 2018), a convex surrogate of
    ``1 - IoU``, of every sample at once.

    For each (sample, class) the pixel errors ``|onehot - p|`` are sorted in
    decreasing order and weighted by the discrete gradient of the Jaccard
    loss along that order. Ignored pixels get error 0 and sort last, where
    they change neither the weights of the other pixels nor the sum.

    Args:
        probs: (N, C, H, W) class probabilities.
        target: (N, H, W) integer labels.
        ignore_index: Label of pixels that do not count.
        present_only: Average over the classes present in each sample's
            ground truth (else over all classes).

    Returns:
        (N,) losses; 0 for a sample without valid pixels.
    """
    n, c = probs.shape[:2]
    probs = probs.flatten(2)                                   # N, C, P
    target = target.flatten(1)                                 # N, P
    valid = target != ignore_index
    safe = torch.where(valid, target, 0)
    fg = torch.zeros_like(probs).scatter_(1, safe.unsqueeze(1), 1.0)
    fg = fg * valid.unsqueeze(1)
    errors = (fg - probs).abs() * valid.unsqueeze(1)
    errors, order = errors.sort(dim=2, descending=True)
    fg_sorted = fg.gather(2, order)
    gts = fg_sorted.sum(dim=2, keepdim=True)
    intersection = gts - fg_sorted.cumsum(dim=2)
    union = gts + (1.0 - fg_sorted).cumsum(dim=2)
    jaccard = 1.0 - intersection / union
    grad = torch.cat([jaccard[..., :1], jaccard[..., 1:] - jaccard[..., :-1]], dim=2)
    per_class = (errors * grad).sum(dim=2)                     # N, C
    if present_only:
        mask = (gts[..., 0] > 0).float()
    else:
        mask = valid.any(dim=1, keepdim=True).float().expand(n, c)
    return (per_class * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)


@MODELS.register_module()
class MTLLovaszLoss(nn.Module):
    """Per-sample Lovász-softmax loss on logits (a surrogate of the IoU).

    Args:
        loss_weight: Multiplier of the loss.
        ignore_index: Label to ignore.
        classes: ``'present'`` (average over the classes in each sample's
            ground truth) or ``'all'``.
        reduction: ``'none'`` (per-sample vector, what the heads use),
            ``'mean'`` or ``'sum'``.
        loss_name: Name for logging.

    Example:
        >>> loss = MTLLovaszLoss()
        >>> loss(torch.zeros(2, 3, 4, 4), torch.zeros(2, 1, 4, 4).long()).shape
        torch.Size([2])
    """

    def __init__(self, loss_weight: float = 1.0, ignore_index: int = 255,
                 classes: str = 'present', reduction: str = 'none',
                 loss_name: str = 'loss_lovasz') -> None:
        super().__init__()
        if classes not in ('present', 'all'):
            raise ValueError(f"MTLLovaszLoss: classes must be 'present' or 'all', got {classes!r}")
        self.loss_weight = loss_weight
        self.ignore_index = ignore_index
        self.classes = classes
        self.reduction = reduction
        self._loss_name = loss_name

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        """(N, C, H, W) logits, (N, 1, H, W) or (N, H, W) labels -> loss."""
        if target.dim() == 4:
            target = target[:, 0]
        loss = lovasz_softmax_per_sample(pred.float().softmax(dim=1), target.long(),
                                         self.ignore_index, self.classes == 'present')
        return self.loss_weight * reduce_per_sample(loss, self.reduction)

    @property
    def loss_name(self) -> str:
        """Name of the loss item."""
        return self._loss_name
