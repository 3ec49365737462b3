"""The multi-task denoiser of DiffusionMTL, batched over (sample, task) pairs."""
from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .attention_blocks import CrossAttentionBlock, SelfAttentionBlock
from .timestep_embedding import TimestepEmbedding


def _token_size(h: int, w: int, downsample: int) -> Tuple[int, int]:
    return max(1, h // downsample), max(1, w // downsample)


class MultiTaskDenoiser(nn.Module):
    """Predict the clean map :math:`\\hat x_0` of every (sample, task) pair.

    For each task the noisy map goes through a task-specific 3x3 conv to
    ``embed_dims`` and gets the timestep embedding added. All pairs of all
    tasks are then concatenated along the batch axis and go *together*
    through the shared attention blocks (at ``1 / token_downsample`` of the
    resolution), are upsampled back and added to the pre-attention map.
    A task-specific conv stack (1x1, 3x3 to ``head_channels``, 3x3, 3x3,
    with ReLUs, as the official code) produces the output, of width
    ``embed_dims``.

    With multi-task conditioning the attention blocks are
    :class:`CrossAttentionBlock` with the sample's conditioning tokens as
    query and the pair's noisy tokens as context, and the refined
    conditioning stream is the output (the official call order). Without
    it they are :class:`SelfAttentionBlock` over the noisy tokens.

    Only the per-task layers loop over tasks (at most six small loops);
    every op is batched over samples.

    Args:
        in_channels: ``{task: channels of its noisy map}``.
        embed_dims: Width of the denoiser.
        head_channels: Hidden width of the task conv stacks.
        num_blocks: Number of attention blocks.
        num_heads: Attention heads.
        mlp_ratio: MLP ratio of the blocks.
        token_downsample: Spatial downsampling before the attention blocks.
        use_conditioning: Cross-attention to the conditioning tokens
            (True) or self-attention (False).
        freq_dims: Width of the sinusoidal timestep code.
        correction_output: Make the conv stacks' output a signed
            *correction* that starts at zero: the last ReLU is dropped and
            the last conv is zero-initialised (used by the feature variant's
            residual refinement, ``x0_hat = x_t + stack(h)``). False: the
            official stack (ReLU output, default init).
        timestep_bias_init: ``'zeros'`` or ``'default'`` biases of the
            timestep MLP (see :class:`TimestepEmbedding`).
    """

    def __init__(self, in_channels: Dict[str, int], embed_dims: int = 512,
                 head_channels: int = 512, num_blocks: int = 4, num_heads: int = 4,
                 mlp_ratio: float = 4.0, token_downsample: int = 4,
                 use_conditioning: bool = True, freq_dims: int = 256,
                 correction_output: bool = False,
                 timestep_bias_init: str = 'zeros') -> None:
        super().__init__()
        self.tasks = tuple(in_channels)
        self.embed_dims = embed_dims
        self.token_downsample = int(token_downsample)
        self.use_conditioning = use_conditioning
        self.pre_layers = nn.ModuleDict({
            t: nn.Conv2d(c, embed_dims, 3, padding=1) for t, c in in_channels.items()})
        self.correction_output = correction_output
        self.t_embed = TimestepEmbedding(embed_dims, freq_dims, bias_init=timestep_bias_init)
        block = CrossAttentionBlock if use_conditioning else SelfAttentionBlock
        self.blocks = nn.ModuleList(
            [block(embed_dims, num_heads, mlp_ratio) for _ in range(num_blocks)])
        self.task_heads = nn.ModuleDict(
            {t: self._conv_stack(embed_dims, head_channels) for t in self.tasks})
        self._init_linear()

    def _conv_stack(self, embed_dims: int, head_channels: int) -> nn.Sequential:
        """The task conv stack (see ``correction_output``)."""
        layers = [
            nn.Conv2d(embed_dims, embed_dims, 1),
            nn.Conv2d(embed_dims, head_channels, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(head_channels, embed_dims, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(embed_dims, embed_dims, 3, padding=1)
        ]
        if self.correction_output:
            nn.init.zeros_(layers[-1].weight)
            nn.init.zeros_(layers[-1].bias)
        else:
            layers.append(nn.ReLU(inplace=True))
        return nn.Sequential(*layers)

    def _init_linear(self) -> None:
        for name, m in self.named_modules():
            if isinstance(m, nn.Linear) and not name.startswith('t_embed'):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def to_tokens(self, x: Tensor) -> Tensor:
        """(N, C, h, w) -> (N, L, C) tokens at ``1 / token_downsample``."""
        size = _token_size(*x.shape[-2:], self.token_downsample)
        if tuple(x.shape[-2:]) != size:
            x = F.interpolate(x, size=size, mode='bilinear', align_corners=False)
        return x.flatten(2).transpose(1, 2)

    def forward(self, x_t: Dict[str, Tensor], t: int, index: Dict[str, Tensor],
                cond_tokens: Optional[Tensor] = None,
                guide: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Denoise every given (sample, task) pair at timestep ``t``.

        Args:
            x_t: ``{task: (n_task, C_task, h, w)}`` noisy maps; tasks with no
                pair may be absent or empty.
            t: The (shared) timestep.
            index: ``{task: (n_task,)}`` batch index of each pair, used to
                pick its sample's conditioning tokens.
            cond_tokens: (B, L, embed_dims) conditioning tokens (required
                with conditioning; see :meth:`to_tokens`).
            guide: Optional (B, embed_dims, h, w) map added to every pair's
                embedded input (its sample's row), e.g. projected
                high-resolution backbone features.

        Returns:
            ``{task: (n_task, embed_dims, h, w)}`` for the tasks given.
        """
        tasks = [k for k in self.tasks if k in x_t and x_t[k].shape[0] > 0]
        if not tasks:
            return {}
        ref = x_t[tasks[0]]
        temb = self.t_embed(torch.full((1, ), t, device=ref.device, dtype=torch.long))
        temb = temb[:, :, None, None]
        counts = [x_t[k].shape[0] for k in tasks]
        x = torch.cat([self.pre_layers[k](x_t[k]) for k in tasks], dim=0) + temb
        pair_index = torch.cat([index[k] for k in tasks])
        if guide is not None:
            x = x + guide.index_select(0, pair_index)
        h, w = x.shape[-2:]
        th, tw = _token_size(h, w, self.token_downsample)
        tokens = self.to_tokens(x)
        if self.use_conditioning:
            if cond_tokens is None:
                raise ValueError('MultiTaskDenoiser: cond_tokens are required with '
                                 'use_conditioning=True')
            query = cond_tokens.index_select(0, pair_index)
            for blk in self.blocks:
                query, tokens = blk(query, tokens)
            tokens = query
        else:
            for blk in self.blocks:
                tokens = blk(tokens)
        y = tokens.transpose(1, 2).reshape(x.shape[0], self.embed_dims, th, tw)
        if (th, tw) != (h, w):
            y = F.interpolate(y, size=(h, w), mode='bilinear', align_corners=False)
        y = y + x
        return {k: self.task_heads[k](part) for k, part in zip(tasks, y.split(counts))}
