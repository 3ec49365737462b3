"""Mixed-precision training switch used by ``tools/train.py --amp``.

* On CUDA: mmengine's ``AmpOptimWrapper`` (fp16 autocast with dynamic loss
  scaling; ``--cfg-options optim_wrapper.dtype=bfloat16`` selects bf16).
* On CPU: :class:`CPUAmpOptimWrapper`, bf16 autocast (fp16 autocast is not
  supported on CPU and needs no loss scaling in bf16).

Losses and the diffusion schedule are computed in fp32 inside the head
(autocast is disabled there), so only the network's matmuls/convs run in
reduced precision.
"""
from contextlib import contextmanager

import torch
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper

from mmdmtl.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(OptimWrapper):
    """OptimWrapper running the forward pass under CPU bf16 autocast.

    Args:
        dtype: autocast dtype; only ``'bfloat16'`` is supported on CPU.
        **kwargs: passed to :class:`mmengine.optim.OptimWrapper`.
    """

    def __init__(self, dtype: str = 'bfloat16', **kwargs) -> None:
        if dtype not in ('bfloat16', torch.bfloat16):
            raise ValueError(
                f'CPU mixed precision supports only bfloat16, got {dtype!r}; '
                'fp16 autocast needs a CUDA device.')
        super().__init__(**kwargs)
        self.cast_dtype = torch.bfloat16

    @contextmanager
    def optim_context(self, model: torch.nn.Module):
        with super().optim_context(model):
            with torch.autocast(device_type='cpu', dtype=self.cast_dtype):
                yield


def enable_amp(cfg: Config) -> Config:
    """Switch ``cfg.optim_wrapper`` to the mixed-precision wrapper for the
    available device and return ``cfg``."""
    wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if wrapper in ('AmpOptimWrapper', 'CPUAmpOptimWrapper'):
        print_log('AMP is already enabled in your config.', logger='current')
        return cfg
    if wrapper != 'OptimWrapper':
        raise ValueError(
            f'--amp only works with optim_wrapper.type=OptimWrapper, '
            f'but the config uses {wrapper}.')
    if torch.cuda.is_available():
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    else:
        print_log('--amp on CPU: using bfloat16 autocast (CPUAmpOptimWrapper).',
                  logger='current')
        cfg.optim_wrapper.type = 'CPUAmpOptimWrapper'
        cfg.optim_wrapper.setdefault('dtype', 'bfloat16')
    return cfg
