"""Stand-ins for the generic layers that the official DiffusionMTL denoiser
imports from ``timm.models.layers``, for machines where timm cannot be
imported (its import chain needs torchvision). Written for mmdmtl's speed
benchmark; only what that code uses at its default arguments is provided.
"""
import math

import torch
from torch import Tensor, nn


class Mlp(nn.Module):
    """Two linear layers with an activation between them."""

    def __init__(self, in_features: int, hidden_features: int = None,
                 out_features: int = None, act_layer=nn.GELU, drop: float = 0.) -> None:
        super().__init__()
        hidden_features = hidden_features or in_features
        out_features = out_features or in_features
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.act = act_layer()
        self.drop1 = nn.Dropout(drop)
        self.fc2 = nn.Linear(hidden_features, out_features)
        self.drop2 = nn.Dropout(drop)

    def forward(self, x: Tensor) -> Tensor:
        return self.drop2(self.fc2(self.drop1(self.act(self.fc1(x)))))


class DropPath(nn.Module):
    """Stochastic depth per sample (identity in eval mode or at p = 0)."""

    def __init__(self, drop_prob: float = 0.) -> None:
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x: Tensor) -> Tensor:
        if self.drop_prob == 0. or not self.training:
            return x
        keep = 1 - self.drop_prob
        mask = x.new_empty((x.shape[0], ) + (1, ) * (x.ndim - 1)).bernoulli_(keep)
        return x * mask / keep


class PatchEmbed(nn.Module):
    """Image to patch tokens (imported by the official code, not used)."""

    def __init__(self, img_size=224, patch_size=16, in_chans=3, embed_dim=768) -> None:
        super().__init__()
        self.proj = nn.Conv2d(in_chans, embed_dim, patch_size, stride=patch_size)

    def forward(self, x: Tensor) -> Tensor:
        return self.proj(x).flatten(2).transpose(1, 2)


def trunc_normal_(tensor: Tensor, mean: float = 0., std: float = 1., a: float = -2.,
                  b: float = 2.) -> Tensor:
    """Truncated normal initialisation (delegates to torch)."""
    return nn.init.trunc_normal_(tensor, mean=mean, std=std, a=a, b=b)


def lecun_normal_(tensor: Tensor) -> Tensor:
    """LeCun normal initialisation: truncated normal with std 1/sqrt(fan_in)."""
    fan_in = nn.init._calculate_fan_in_and_fan_out(tensor)[0]
    with torch.no_grad():
        return nn.init.trunc_normal_(tensor, std=math.sqrt(1. / fan_in) / .87962566103423978)
