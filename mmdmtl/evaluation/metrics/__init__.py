from .base_task_metric import BaseTaskMetric
from .boundary_metric import BoundaryMetric
from .mtl_depth_metric import MTLDepthMetric
from .mtl_iou_metric import MTLIoUMetric
from .multi_task_metric import MultiTaskMetric
from .saliency_metric import SaliencyMetric
from .surface_normal_metric import SurfaceNormalMetric

__all__ = [
    'BaseTaskMetric', 'BoundaryMetric', 'MTLDepthMetric', 'MTLIoUMetric', 'MultiTaskMetric',
    'SaliencyMetric', 'SurfaceNormalMetric'
]
