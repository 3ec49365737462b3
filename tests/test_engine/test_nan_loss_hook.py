"""NaN-loss detection names the iteration and the offending task."""
import math
from types import SimpleNamespace

import pytest
import torch

from mmdmtl.engine.hooks.nan_loss_hook import NaNLossDetectionHook


def _runner(it):
    return SimpleNamespace(iter=it)


def test_finite_losses_pass():
    hook = NaNLossDetectionHook()
    hook.after_train_iter(_runner(3), 0, outputs={
        'loss': torch.tensor(1.0), 'decode.loss_depth': torch.tensor(0.5)})


def test_nan_loss_names_iteration_and_task():
    hook = NaNLossDetectionHook()
    outputs = {'loss': torch.tensor(math.nan), 'decode.loss_semseg': torch.tensor(1.0),
               'decode.loss_depth': torch.tensor(math.nan),
               'decode.loss_depth_init': torch.tensor(math.inf)}
    with pytest.raises(FloatingPointError) as e:
        hook.after_train_iter(_runner(6), 0, outputs=outputs)
    msg = str(e.value)
    assert 'iteration 7' in msg
    assert "['depth']" in msg and 'decode.loss_depth=nan' in msg
    assert 'semseg' not in msg.split('Offending')[1]


def test_interval_skips_checks():
    hook = NaNLossDetectionHook(interval=2)
    # runner.iter=0 -> iteration 1 is not a multiple of 2: not checked
    hook.after_train_iter(_runner(0), 0, outputs={'loss': torch.tensor(math.nan)})
    with pytest.raises(FloatingPointError, match='total loss only'):
        hook.after_train_iter(_runner(1), 0, outputs={'loss': torch.tensor(math.nan)})
