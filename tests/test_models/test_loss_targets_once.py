"""The loss stacks each task's ground truth once per batch (issue #16).

The final, initial and intermediate-step losses of a task read the same
labelled samples; stacking (and copying) their targets again for each was
pure overhead. The values must be those of stacking every time.
"""
import contextlib
from unittest import mock

import torch
from mtl_model_helpers import build, head_cfg, make_samples

from mmdmtl.models.decode_heads import MTLBaselineHead

TASKS = dict(semseg=5, depth=1, normal=3)
IN = (8, 16, 32, 32)


def _feats(b: int, h: int, w: int):
    g = torch.Generator().manual_seed(0)
    return [torch.randn(b, c, h // s, w // s, generator=g) for c, s in zip(IN, (4, 8, 16, 32))]


def _losses(head, feats, samples, noise, cache: bool):
    """Losses and the number of ``_stack_targets`` calls; with ``cache=False``
    the cache is defeated (every call stacks anew, the old behaviour)."""
    calls = []
    real = MTLBaselineHead._stack_targets

    def counting(self, task, batch, index):
        calls.append(task)
        return real(self, task, batch, index)

    real_loss = MTLBaselineHead._task_loss

    def uncached(self, task, pred, batch, index, sample_w, targets=None):
        return real_loss(self, task, pred, batch, index, sample_w, None)

    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch.object(MTLBaselineHead, '_stack_targets', counting))
        if not cache:
            stack.enter_context(mock.patch.object(MTLBaselineHead, '_task_loss', uncached))
        losses = head.loss(feats, samples, noise=noise)
    return {k: v.item() for k, v in losses.items()}, calls


def test_targets_stacked_once_per_task_and_values_unchanged():
    torch.manual_seed(0)
    head = build(head_cfg(TASKS, in_channels=IN, num_timesteps=3, step_loss_weight=0.5,
                          initial_loss_weight=1.0))
    b, h, w = 4, 64, 96
    samples = make_samples(b, h, w, list(TASKS),
                           labelled=[['semseg', 'depth'], ['normal'], ['semseg'], list(TASKS)])
    g = torch.Generator().manual_seed(1)
    shapes = head.noise_shapes(b, (h // 8, w // 8))
    noise = {t: torch.randn(*s, generator=g) for t, s in shapes.items()}
    feats = _feats(b, h, w)
    head.train()
    cached, calls = _losses(head, feats, samples, noise, cache=True)
    assert sorted(calls) == sorted(TASKS), calls   # once per task
    assert {'loss_semseg_init', 'loss_semseg_steps'} <= set(cached)
    plain, plain_calls = _losses(head, feats, samples, noise, cache=False)
    # final + init + (T-1) intermediate steps, per task, without the cache
    assert len(plain_calls) == len(TASKS) * (1 + 1 + 2)
    assert cached.keys() == plain.keys()
    for k in cached:
        assert abs(cached[k] - plain[k]) <= 1e-6 * max(1.0, abs(plain[k])), k
