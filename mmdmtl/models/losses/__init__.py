"""Per-sample dense losses for partially labelled multi-task training."""
from .balanced_bce_loss import BalancedBCELoss
from .cross_entropy_loss import MTLCrossEntropyLoss
from .depth_l1_loss import DepthL1Loss
from .lovasz_loss import MTLLovaszLoss, lovasz_softmax_per_sample
from .normal_loss import NormalL1Loss
from .partial_label_weights import DEFAULT_TASK_LOSSES, partial_label_sample_weights
from .utils import masked_mean_per_sample

__all__ = [
    'BalancedBCELoss', 'MTLCrossEntropyLoss', 'DepthL1Loss', 'NormalL1Loss', 'MTLLovaszLoss',
    'lovasz_softmax_per_sample',
    'DEFAULT_TASK_LOSSES', 'partial_label_sample_weights', 'masked_mean_per_sample'
]
