from . import hooks  # noqa: F401
from .amp import CPUAmpOptimWrapper, enable_amp
from .checkpoint_io import (
                            CheckpointReadError,
                            UnsafeCheckpointError,
                            message_hub_from_safe,
                            safe_torch_load,
                            to_safe_state,
)
from .runner import MTLRunner
from .state_dict_diff import CheckpointMismatchError
from .work_dir_lock import WorkDirLock, WorkDirLockedError

__all__ = [
    'MTLRunner', 'safe_torch_load', 'to_safe_state', 'message_hub_from_safe',
    'CPUAmpOptimWrapper', 'enable_amp', 'CheckpointReadError', 'UnsafeCheckpointError',
    'CheckpointMismatchError', 'WorkDirLock', 'WorkDirLockedError'
]
