"""Random number generator state saved in checkpoints, so that a resumed run
continues with the same random stream (augmentation, diffusion noise) as an
uninterrupted one.

:class:`~mmdmtl.engine.MTLRunner` stores :func:`get_rng_state` in every
checkpoint's ``meta['rng_state']``; on resume it re-applies the state with
:func:`set_rng_state` once the train loop has skipped the batches trained
before the checkpoint (:class:`RestoreRngAfterSkip`).
"""
import random
from typing import Any, Iterator

import numpy as np
import torch


def get_rng_state() -> dict:
    """Python, numpy and torch (CPU, and CUDA when used) RNG states."""
    state = {
        'python': random.getstate(),
        'numpy': np.random.get_state(),
        'torch': torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Inverse of :func:`get_rng_state` (accepts its safe-format copy, in
    which tuples may have become lists and numpy arrays tensors)."""
    py = state['python']
    random.setstate((py[0], tuple(py[1]), py[2]))
    np_state = list(state['numpy'])
    np_state[1] = np.asarray(np_state[1], dtype=np.uint32) if not isinstance(
        np_state[1], torch.Tensor) else np_state[1].numpy().astype(np.uint32)
    np.random.set_state(tuple(np_state))
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


class RestoreRngAfterSkip:
    """Wrap a train-loop data iterator: after the first ``n_skip`` batches
    (those the resumed loop skips), restore the checkpoint's RNG state.

    Args:
        iterator: The loop's data iterator; other attributes are forwarded.
        n_skip: Number of batches the resumed loop skips (> 0).
        state: A :func:`get_rng_state` result.
    """

    def __init__(self, iterator: Iterator, n_skip: int, state: dict) -> None:
        self._it, self._left, self._state = iterator, n_skip, state

    def __iter__(self) -> 'RestoreRngAfterSkip':
        return self

    def __next__(self) -> Any:
        item = next(self._it)
        if self._left > 0:
            self._left -= 1
            if self._left == 0:
                set_rng_state(self._state)
        return item

    def __getattr__(self, name: str) -> Any:
        return getattr(self._it, name)
