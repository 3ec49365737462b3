from . import hooks  # noqa: F401
from .amp import CPUAmpOptimWrapper, enable_amp
from .runner import MTLRunner, message_hub_from_safe, safe_torch_load, to_safe_state

__all__ = [
    'MTLRunner', 'safe_torch_load', 'to_safe_state', 'message_hub_from_safe',
    'CPUAmpOptimWrapper', 'enable_amp'
]
