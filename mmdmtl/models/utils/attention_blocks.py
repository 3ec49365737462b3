"""Transformer blocks of the DiffusionMTL denoiser."""
from typing import Tuple

import torch.nn.functional as F
from torch import Tensor, nn


class TokenMLP(nn.Sequential):
    """``Linear -> GELU -> Linear`` applied to tokens."""

    def __init__(self, dims: int, hidden_dims: int) -> None:
        super().__init__(nn.Linear(dims, hidden_dims), nn.GELU(), nn.Linear(hidden_dims, dims))


class MultiHeadAttention(nn.Module):
    """Multi-head attention of ``query`` tokens over ``context`` tokens.

    Uses ``F.scaled_dot_product_attention``. Projections have no bias
    (``qkv_bias=False``) like the official code.

    Args:
        dims: Token width (divisible by ``num_heads``).
        num_heads: Number of heads.
        qkv_bias: Whether q/k/v projections have a bias.
    """

    def __init__(self, dims: int, num_heads: int, qkv_bias: bool = False) -> None:
        super().__init__()
        if dims % num_heads:
            raise ValueError(f'dims={dims} is not divisible by num_heads={num_heads}')
        self.num_heads = num_heads
        self.q = nn.Linear(dims, dims, bias=qkv_bias)
        self.kv = nn.Linear(dims, 2 * dims, bias=qkv_bias)
        self.proj = nn.Linear(dims, dims)

    def forward(self, query: Tensor, context: Tensor) -> Tensor:
        """(N, Lq, C), (N, Lk, C) -> (N, Lq, C)."""
        n, lq, c = query.shape
        lk = context.shape[1]
        h = self.num_heads
        q = self.q(query).reshape(n, lq, h, c // h).transpose(1, 2)
        k, v = self.kv(context).reshape(n, lk, 2, h, c // h).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v)
        return self.proj(out.transpose(1, 2).reshape(n, lq, c))


class CrossAttentionBlock(nn.Module):
    """Pre-norm cross-attention block with a second stream.

    The context stream is refined by its own MLP, then the query stream
    attends to it and goes through an MLP::

        context = context + MLP_c(LN(context))
        query = query + Attn(LN(query), LN(context))
        query = query + MLP(LN(query))

    In DiffusionMTL the query is the multi-task *conditioning* tokens and
    the context the noisy *task* tokens (the official call order); the
    refined conditioning stream is the block stack's output.

    Args:
        dims: Token width.
        num_heads: Attention heads.
        mlp_ratio: Hidden width of the MLPs relative to ``dims``.
    """

    def __init__(self, dims: int, num_heads: int, mlp_ratio: float = 4.0) -> None:
        super().__init__()
        hidden = int(dims * mlp_ratio)
        self.norm_query = nn.LayerNorm(dims)
        self.norm_context = nn.LayerNorm(dims)
        self.norm_context_mlp = nn.LayerNorm(dims)
        self.norm_mlp = nn.LayerNorm(dims)
        self.attn = MultiHeadAttention(dims, num_heads)
        self.mlp = TokenMLP(dims, hidden)
        self.context_mlp = TokenMLP(dims, hidden)

    def forward(self, query: Tensor, context: Tensor) -> Tuple[Tensor, Tensor]:
        """Return the refined ``(query, context)`` streams."""
        context = context + self.context_mlp(self.norm_context_mlp(context))
        query = query + self.attn(self.norm_query(query), self.norm_context(context))
        query = query + self.mlp(self.norm_mlp(query))
        return query, context


class SelfAttentionBlock(nn.Module):
    """Pre-norm self-attention transformer block (``attn`` + ``MLP``).

    Used by the denoiser when multi-task conditioning is switched off.

    Args:
        dims: Token width.
        num_heads: Attention heads.
        mlp_ratio: Hidden width of the MLP relative to ``dims``.
    """

    def __init__(self, dims: int, num_heads: int, mlp_ratio: float = 4.0) -> None:
        super().__init__()
        self.norm_attn = nn.LayerNorm(dims)
        self.norm_mlp = nn.LayerNorm(dims)
        self.attn = MultiHeadAttention(dims, num_heads)
        self.mlp = TokenMLP(dims, int(dims * mlp_ratio))

    def forward(self, x: Tensor) -> Tensor:
        """(N, L, C) -> (N, L, C)."""
        y = self.norm_attn(x)
        x = x + self.attn(y, y)
        return x + self.mlp(self.norm_mlp(x))
