"""Pixels near the discontinuities of a dense ground-truth map.

Used to split a depth or normal error into the part at object and surface
boundaries (where a coarse prediction blurs the map) and the part inside
smooth regions (e.g. a wrong global depth scale). A refinement stage that
works at a finer resolution than the first stage should mostly reduce the
former: ``tools/analyze_refinement.py --disc-width``.

Two horizontally or vertically adjacent pixels, both valid, are separated by
a discontinuity when

* depth: their relative difference ``|a - b| / min(a, b)`` exceeds
  ``threshold`` (e.g. 0.05 = 5 %);
* normals: the angle between their ground-truth normals exceeds
  ``threshold`` degrees (e.g. 10).

Both pixels of such a pair are marked, the marks are dilated by ``width``
pixels (a ``(2 width + 1)`` square) and restricted to valid pixels.
"""
from typing import Optional

import torch
import torch.nn.functional as F

#: Kinds of map :func:`discontinuity_mask` understands.
DISCONTINUITY_KINDS = ('depth', 'normal')


def check_disc_args(width: Optional[int], threshold: float, width_name: str = 'width',
                    threshold_name: str = 'threshold', owner: str = '') -> None:
    """Refuse a ``width`` that is not an integer >= 0 and a ``threshold``
    that is not > 0 (``width=None``, no split, is accepted), naming the
    arguments as their caller calls them.

    Raises:
        ValueError: naming ``owner`` and the argument.
    """
    if width is not None and (int(width) != width or width < 0):
        raise ValueError(f'{owner}{width_name} must be an integer >= 0, got {width}')
    if not threshold > 0:
        raise ValueError(f'{owner}{threshold_name} must be > 0, got {threshold}')


def _pair_jumps(gt: torch.Tensor, valid: torch.Tensor, kind: str, threshold: float,
                dim: int) -> torch.Tensor:
    """(H', W') bool: a jump between each pixel and its next one along
    ``dim`` (-1: right neighbour, -2: lower neighbour), both valid."""
    n = gt.shape[dim]
    a, b = gt.narrow(dim, 0, n - 1), gt.narrow(dim, 1, n - 1)
    both = valid.narrow(dim, 0, n - 1) & valid.narrow(dim, 1, n - 1)
    if kind == 'depth':
        jump = (a - b).abs()[0] > threshold * torch.minimum(a, b)[0]
    else:
        # unit vectors; the stable angle formula of the normal metric
        angle = 2.0 * torch.atan2((a - b).norm(dim=0), (a + b).norm(dim=0))
        jump = torch.rad2deg(angle) > threshold
    return jump & both


def discontinuity_mask(gt: torch.Tensor, kind: str, threshold: float,
                       width: int = 1) -> torch.Tensor:
    """(H, W) bool mask of the valid pixels within ``width`` pixels of a
    ground-truth discontinuity (see the module docstring).

    Args:
        gt: ``(1, H, W)`` or ``(H, W)`` depth in metres (0, NaN, inf:
            invalid) or ``(3, H, W)`` normals (zero or non-finite vector:
            invalid).
        kind: ``'depth'`` or ``'normal'``.
        threshold: Relative depth jump, or angle in degrees.
        width: Dilation radius in pixels (>= 0).

    Raises:
        ValueError: unknown ``kind``, a ``gt`` of the wrong shape, a
            negative ``width`` or a non-positive ``threshold``.
    """
    if kind not in DISCONTINUITY_KINDS:
        raise ValueError(f'discontinuity_mask: kind must be one of {DISCONTINUITY_KINDS}, '
                         f'got {kind!r}')
    check_disc_args(width, threshold, owner='discontinuity_mask: ')
    g = gt.double()
    if kind == 'depth':
        if g.dim() == 2:
            g = g[None]
        if g.dim() != 3 or g.shape[0] != 1:
            raise ValueError(f'discontinuity_mask: depth must be (1, H, W) or (H, W), got '
                             f'{tuple(gt.shape)}')
        valid = (torch.isfinite(g) & (g > 0))[0]
        g = torch.where(torch.isfinite(g), g, torch.zeros_like(g))
    else:
        if g.dim() != 3 or g.shape[0] != 3:
            raise ValueError(f'discontinuity_mask: normals must be (3, H, W), got '
                             f'{tuple(gt.shape)}')
        norm = g.norm(dim=0)
        valid = torch.isfinite(norm) & (norm > 0)
        g = torch.where(valid, g / norm.clamp(min=1e-12), torch.zeros_like(g))
    marks = torch.zeros(valid.shape, dtype=torch.bool)
    if valid.shape[-1] > 1:
        jump = _pair_jumps(g, valid, kind, threshold, -1)
        marks[:, :-1] |= jump
        marks[:, 1:] |= jump
    if valid.shape[-2] > 1:
        jump = _pair_jumps(g, valid, kind, threshold, -2)
        marks[:-1, :] |= jump
        marks[1:, :] |= jump
    if width > 0 and marks.any():
        marks = F.max_pool2d(marks[None, None].float(), 2 * int(width) + 1, stride=1,
                             padding=int(width))[0, 0] > 0
    return marks & valid
