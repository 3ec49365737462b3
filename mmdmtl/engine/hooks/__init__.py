from .consistency_check_hook import MTLConsistencyCheckHook
from .nan_loss_hook import NaNLossDetectionHook
from .visualization_hook import MTLVisualizationHook

__all__ = ['MTLConsistencyCheckHook', 'MTLVisualizationHook', 'NaNLossDetectionHook']
