from .config_utils import restrict_config_to_tasks, set_head_type

__all__ = ['restrict_config_to_tasks', 'set_head_type']
