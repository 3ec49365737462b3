"""Building blocks of the mmdmtl heads."""
from .attention_blocks import CrossAttentionBlock, MultiHeadAttention, SelfAttentionBlock
from .diffusion_scheduler import DiffusionScheduler
from .feature_fusion import MultiLevelFusion
from .task_denoiser import MultiTaskDenoiser
from .task_outputs import activate_task_output, check_task_channels, to_prediction
from .timestep_embedding import TimestepEmbedding
from .two_class_logit_conv import TwoClassLogitConv

__all__ = [
    'CrossAttentionBlock', 'MultiHeadAttention', 'SelfAttentionBlock', 'DiffusionScheduler',
    'MultiLevelFusion', 'MultiTaskDenoiser', 'TimestepEmbedding', 'TwoClassLogitConv',
    'activate_task_output', 'check_task_channels', 'to_prediction'
]
