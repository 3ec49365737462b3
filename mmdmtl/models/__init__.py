from . import decode_heads, losses, segmentors  # noqa: F401
from .data_preprocessor import MTLDataPreProcessor  # noqa: F401
