"""Fusion of multi-level backbone features into one embedding."""
from typing import List, Optional, Sequence

import torch
from mmcv.cnn import ConvModule
from mmseg.models.utils import resize
from torch import Tensor, nn


class MultiLevelFusion(nn.Module):
    """Resize all levels to one size, concatenate, and project with a 3x3 conv.

    DiffusionMTL resizes the four ResNet stages (strides 4/8/16/32) to half
    the size of the first level (stride 8) with bilinear interpolation,
    concatenates them (960 channels for ResNet-18) and applies a plain 3x3
    convolution to ``out_channels`` (512).

    Args:
        in_channels: Channels of each input level.
        out_channels: Output width.
        scale: Output size relative to the first level (0.5 = stride 8 for
            stride-4 backbones; use e.g. 2.0 for a stride-16 ViT).
        conv_cfg, norm_cfg, act_cfg: Of the projection (plain conv by default).
        align_corners: Of the bilinear resize.
        init: ``'kaiming'`` (``ConvModule``'s kaiming fan-out init) or
            ``'default'`` (PyTorch's default conv init, as the official
            ``nn.Conv2d``; about 3x smaller fused features).
    """

    def __init__(self, in_channels: Sequence[int], out_channels: int, scale: float = 0.5,
                 conv_cfg: Optional[dict] = None, norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None, align_corners: bool = False,
                 init: str = 'kaiming') -> None:
        super().__init__()
        if init not in ('kaiming', 'default'):
            raise ValueError(f'MultiLevelFusion: init must be kaiming or default, got {init!r}')
        self.init = init
        self.in_channels = list(in_channels)
        self.scale = float(scale)
        self.align_corners = align_corners
        self.proj = ConvModule(sum(self.in_channels), out_channels, 3, padding=1,
                               conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        if init == 'default':
            self.proj.conv.reset_parameters()

    def forward(self, feats: List[Tensor]) -> Tensor:
        """Fuse ``feats`` (one tensor per level) into (B, out_channels, h, w)."""
        if len(feats) != len(self.in_channels):
            raise ValueError(f'MultiLevelFusion expects {len(self.in_channels)} levels, '
                             f'got {len(feats)}')
        h, w = feats[0].shape[-2:]
        size = (max(1, int(h * self.scale)), max(1, int(w * self.scale)))
        feats = [
            f if tuple(f.shape[-2:]) == size else resize(
                f, size=size, mode='bilinear', align_corners=self.align_corners)
            for f in feats
        ]
        return self.proj(torch.cat(feats, dim=1))
