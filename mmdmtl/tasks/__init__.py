"""Dense prediction tasks as registered classes (see :class:`BaseTask`).

Importing this package registers the built-in tasks in
:data:`mmdmtl.registry.TASKS`: ``semseg``, ``parts``, ``sal``, ``edge``,
``depth`` and ``normal``.
"""
from .base_task import FLIP_AXES, BaseTask
from .binary_map_task import BinaryMapTask
from .label_map_task import LabelMapTask

# isort: off
# Registration order is the order of task_names(): rows of the visualiser
# when a sample's tasks are not given.
from .semseg_task import SemsegTask
from .parts_task import PartsTask
from .saliency_task import SaliencyTask
from .edge_task import EdgeTask
from .depth_task import DepthTask
from .normal_task import NormalTask
# isort: on
from .task_lookup import ALL_TASKS, TaskTable, check_tasks, get_task, task_names, task_of_key

__all__ = [
    'BaseTask', 'LabelMapTask', 'BinaryMapTask', 'SemsegTask', 'PartsTask', 'SaliencyTask',
    'EdgeTask', 'DepthTask', 'NormalTask', 'FLIP_AXES', 'ALL_TASKS', 'TaskTable',
    'check_tasks', 'get_task', 'task_names', 'task_of_key'
]
