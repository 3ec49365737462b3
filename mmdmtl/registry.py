"""Registries used by mmdmtl.

mmdmtl registers its modules directly into mmsegmentation's registries (the
``mmseg`` scope), the way mmseg's own ``projects/`` do. This keeps both ways of
using the plugin working with no scope juggling:

* our configs set ``default_scope='mmseg'`` and
  ``custom_imports=dict(imports=['mmdmtl'])``;
* an existing mmseg config adds the same ``custom_imports`` line and refers to
  our modules by their plain names (``type='DiffusionMTLHead'``), and every
  mmseg backbone, neck, transform and hook stays available.

All mmdmtl class names are distinct from mmseg's, so nothing is shadowed.

:data:`TASKS` is mmdmtl's own registry of dense prediction tasks (classes
derived from :class:`mmdmtl.tasks.BaseTask`, registered under the task name
used in configs); mmseg has no equivalent.
"""
from mmengine.registry import Registry
from mmseg.registry import (
                            DATA_SAMPLERS,
                            DATASETS,
                            EVALUATOR,
                            HOOKS,
                            INFERENCERS,
                            LOG_PROCESSORS,
                            LOOPS,
                            METRICS,
                            MODEL_WRAPPERS,
                            MODELS,
                            OPTIM_WRAPPER_CONSTRUCTORS,
                            OPTIM_WRAPPERS,
                            OPTIMIZERS,
                            PARAM_SCHEDULERS,
                            RUNNER_CONSTRUCTORS,
                            RUNNERS,
                            TASK_UTILS,
                            TRANSFORMS,
                            VISBACKENDS,
                            VISUALIZERS,
                            WEIGHT_INITIALIZERS,
)

#: Dense prediction tasks by name (``'semseg'``, ``'depth'``, ...). Register a
#: new task class under the name configs use for it; get its instance with
#: :func:`mmdmtl.tasks.get_task`.
TASKS = Registry('task', locations=['mmdmtl.tasks'])

__all__ = [
    'RUNNERS', 'RUNNER_CONSTRUCTORS', 'HOOKS', 'DATASETS', 'DATA_SAMPLERS',
    'TRANSFORMS', 'MODELS', 'WEIGHT_INITIALIZERS', 'OPTIMIZERS',
    'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS', 'TASK_UTILS',
    'PARAM_SCHEDULERS', 'METRICS', 'MODEL_WRAPPERS', 'VISBACKENDS',
    'VISUALIZERS', 'LOOPS', 'EVALUATOR', 'INFERENCERS', 'LOG_PROCESSORS', 'TASKS'
]
