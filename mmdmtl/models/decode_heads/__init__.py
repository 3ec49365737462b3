"""Multi-task decode heads."""
from .diffusion_mtl_head import DiffusionMTLHead
from .mtl_baseline_head import HEAD_PRESETS, MTLBaselineHead, task_mask_tensor

__all__ = ['DiffusionMTLHead', 'MTLBaselineHead', 'HEAD_PRESETS', 'task_mask_tensor']
