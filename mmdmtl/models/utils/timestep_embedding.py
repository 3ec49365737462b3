"""Sinusoidal timestep embedding followed by an MLP (DiT style)."""
import math

import torch
from torch import Tensor, nn


class TimestepEmbedding(nn.Module):
    """Embed integer diffusion timesteps into ``embed_dims`` vectors.

    ``t -> [cos(t * f_i), sin(t * f_i)]`` with ``f_i = 10000^(-i / half)``,
    then ``Linear -> SiLU -> Linear``.

    Args:
        embed_dims: Output width.
        freq_dims: Width of the sinusoidal code.
        max_period: Controls the lowest frequency.
        bias_init: ``'zeros'`` (zero MLP biases) or ``'default'`` (PyTorch's
            default uniform biases, as the official code, which builds the
            embedder after its zero-bias initialisation pass). The weights
            are N(0, 0.02) either way (DiT).
    """

    def __init__(self, embed_dims: int, freq_dims: int = 256,
                 max_period: float = 10000.0, bias_init: str = 'zeros') -> None:
        super().__init__()
        if bias_init not in ('zeros', 'default'):
            raise ValueError(f'TimestepEmbedding: bias_init must be zeros or default, '
                             f'got {bias_init!r}')
        self.freq_dims = freq_dims
        self.max_period = max_period
        self.mlp = nn.Sequential(
            nn.Linear(freq_dims, embed_dims), nn.SiLU(), nn.Linear(embed_dims, embed_dims))
        for idx in (0, 2):
            nn.init.normal_(self.mlp[idx].weight, std=0.02)
            if bias_init == 'zeros':
                nn.init.zeros_(self.mlp[idx].bias)

    def sinusoid(self, t: Tensor) -> Tensor:
        """(N,) timesteps -> (N, freq_dims) sinusoidal code."""
        half = self.freq_dims // 2
        freqs = torch.exp(-math.log(self.max_period) *
                          torch.arange(half, dtype=torch.float32, device=t.device) / half)
        args = t.float()[:, None] * freqs[None]
        code = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
        if self.freq_dims % 2:
            code = torch.cat([code, torch.zeros_like(code[:, :1])], dim=-1)
        return code

    def forward(self, t: Tensor) -> Tensor:
        """(N,) integer timesteps -> (N, embed_dims)."""
        return self.mlp(self.sinusoid(t).to(self.mlp[0].weight.dtype))
