"""A NaN loss stops training, naming the iteration and the task."""
import math
import os.path as osp

import pytest
import torch
from mmengine.hooks import Hook
from reliability_utils import build_runner, tiny_cfg


class _PoisonDepthHead(Hook):
    """Before iteration ``at`` (1-based), put NaN into the final depth head."""

    def __init__(self, at: int) -> None:
        self.at = at

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if runner.iter + 1 == self.at:
            model = getattr(runner.model, 'module', runner.model)
            with torch.no_grad():
                model.decode_head.final_heads['depth'].weight.fill_(math.nan)


def test_default_runtime_enables_the_hook():
    cfg = tiny_cfg('unused', 'unused')
    assert dict(type='NaNLossDetectionHook') in cfg.custom_hooks


def test_nan_loss_stops_training_naming_iteration_and_task(synthetic_root, tmp_path):
    cfg = tiny_cfg(synthetic_root, str(tmp_path), **{'train_cfg.max_iters': 4,
                                                     'default_hooks.checkpoint.interval': 1})
    runner = build_runner(cfg)
    runner.register_hook(_PoisonDepthHead(at=3))
    with pytest.raises(FloatingPointError) as e:
        runner.train()
    msg = str(e.value)
    assert msg.startswith('Non-finite loss at iteration 3: ')
    assert 'decode.loss_depth=nan' in msg
    assert "Offending task(s): ['depth']" in msg
    assert runner.iter == 2  # stopped in iteration 3
    # the hook runs before the checkpoint hook: no checkpoint of the NaN step
    assert osp.isfile(osp.join(str(tmp_path), 'iter_2.pth'))
    assert not osp.isfile(osp.join(str(tmp_path), 'iter_3.pth'))
