from .mtl_data_sample import MTLDataSample, pixel_numpy
from .tasks import TASK_MASK_KEY, TASKS, TaskSpec, check_tasks, get_task, task_results_keys

__all__ = [
    'MTLDataSample', 'pixel_numpy', 'TASK_MASK_KEY', 'TASKS', 'TaskSpec', 'check_tasks', 'get_task',
    'task_results_keys'
]
