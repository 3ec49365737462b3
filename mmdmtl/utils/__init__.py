from .config_utils import restrict_config_to_tasks, set_head_type
from .thinning import thin_binary

__all__ = ['restrict_config_to_tasks', 'set_head_type', 'thin_binary']
