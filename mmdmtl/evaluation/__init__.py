from . import functional, metrics  # noqa: F401
from .metrics import (
    BaseTaskMetric,
    BoundaryMetric,
    MTLDepthMetric,
    MTLIoUMetric,
    MultiTaskMetric,
    SaliencyMetric,
    SurfaceNormalMetric,
)

__all__ = [
    'BaseTaskMetric', 'BoundaryMetric', 'MTLDepthMetric', 'MTLIoUMetric', 'MultiTaskMetric',
    'SaliencyMetric', 'SurfaceNormalMetric'
]
