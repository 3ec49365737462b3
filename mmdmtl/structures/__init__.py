from .tasks import TASK_MASK_KEY, TASKS, TaskSpec, check_tasks, get_task, task_results_keys

__all__ = [
    'TASK_MASK_KEY', 'TASKS', 'TaskSpec', 'check_tasks', 'get_task',
    'task_results_keys'
]
