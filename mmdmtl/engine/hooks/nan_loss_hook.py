"""Stop training at the first non-finite loss, naming the iteration and the
offending task(s)."""
import math
from typing import Optional, Union

import torch
from mmengine.hooks import Hook

from mmdmtl.registry import HOOKS
from mmdmtl.tasks import task_of_key


def _as_float(v: Union[float, torch.Tensor]) -> Optional[float]:
    if isinstance(v, torch.Tensor):
        return float(v.detach().float().mean()) if v.numel() else None
    if isinstance(v, (int, float)):
        return float(v)
    return None


@HOOKS.register_module()
class NaNLossDetectionHook(Hook):
    """Raise as soon as a logged loss becomes NaN or infinite.

    mmengine's ``CheckInvalidLossHook`` only says "loss become infinite or
    NaN"; with several tasks a user needs to know *which* task diverged.
    This hook inspects every ``loss*`` entry of the training step's log
    variables (``decode.loss_depth``, ``decode.loss_semseg_init``, ...) and
    raises a :class:`FloatingPointError` naming the iteration, the keys and
    their values.

    Args:
        interval: check every ``interval`` iterations (1 = every step).
    """
    priority = 'VERY_HIGH'

    def __init__(self, interval: int = 1) -> None:
        self.interval = interval

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[Union[dict, tuple, list]] = None,
                         outputs: Optional[dict] = None) -> None:
        if not outputs or not self.every_n_train_iters(runner, self.interval):
            return
        bad = []
        for key, value in outputs.items():
            if 'loss' not in key:
                continue
            f = _as_float(value)
            if f is not None and not math.isfinite(f):
                bad.append((key, f))
        if bad:
            tasks = sorted({task_of_key(k) for k, _ in bad if k != 'loss'})
            detail = ', '.join(f'{k}={v}' for k, v in bad)
            raise FloatingPointError(
                f'Non-finite loss at iteration {runner.iter + 1}: {detail}. '
                f'Offending task(s): {tasks or ["(total loss only)"]}. '
                'Check the learning rate, the loss weights and the targets '
                'of these tasks (e.g. NaN depth must be masked).')
