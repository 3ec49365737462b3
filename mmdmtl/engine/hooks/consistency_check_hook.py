"""Refuse a config whose head, datasets and evaluators disagree on the tasks,
before the first iteration (like mmdet's ``NumClassCheckHook``)."""
from typing import List, Optional, Tuple

from mmengine.hooks import Hook
from mmengine.runner import BaseLoop

from mmdmtl.engine.consistency import check_runner_consistency
from mmdmtl.registry import HOOKS

#: The runner's loops and the config key each one is built from.
_LOOPS = (('train_dataloader', '_train_loop'), ('val_dataloader', '_val_loop'),
          ('test_dataloader', '_test_loop'))


@HOOKS.register_module()
class MTLConsistencyCheckHook(Hook):
    """Check the model's multi-task head against the datasets and evaluators
    of the runner's loops (:func:`~mmdmtl.engine.consistency.check_runner_consistency`).

    * ``before_run`` checks every loop the runner has built: in
      ``runner.train()`` the train and validation loops, in ``runner.val()``
      / ``runner.test()`` the loop that is about to run. It runs before any
      checkpoint is loaded, so a bad config fails at once, even when it is
      resumed.
    * ``before_train`` / ``before_val`` / ``before_test`` check the loop
      about to run if it was built later (a loop run on its own); a loop is
      checked once.

    :class:`~mmdmtl.engine.MTLRunner` adds this hook when the config's
    ``custom_hooks`` do not, so it needs no configuration.

    Raises:
        TaskConfigMismatchError: naming both sides of the mismatch and the
            config keys to fix.
    """

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self._checked: List[BaseLoop] = []

    def _check(self, runner, names: Optional[Tuple[str, ...]] = None) -> None:
        """Check the built loops among ``names`` (config keys; all if None)
        that were not checked yet."""
        loops = []
        for name, attr in _LOOPS:
            loop = getattr(runner, attr, None)
            if (names is None or name in names) and isinstance(loop, BaseLoop) \
                    and not any(loop is done for done in self._checked):
                loops.append((name, loop))
        if not loops:
            return
        check_runner_consistency(runner.model, loops)
        self._checked.extend(loop for _, loop in loops)

    def before_run(self, runner) -> None:
        """Check every loop the runner has built."""
        self._check(runner)

    def before_train(self, runner) -> None:
        """Check the train (and validation) loop if not checked yet."""
        self._check(runner, ('train_dataloader', 'val_dataloader'))

    def before_val(self, runner) -> None:
        """Check the validation loop if not checked yet."""
        self._check(runner, ('val_dataloader',))

    def before_test(self, runner) -> None:
        """Check the test loop if not checked yet."""
        self._check(runner, ('test_dataloader',))
