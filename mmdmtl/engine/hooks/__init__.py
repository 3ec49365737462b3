from .nan_loss_hook import NaNLossDetectionHook
from .visualization_hook import MTLVisualizationHook

__all__ = ['MTLVisualizationHook', 'NaNLossDetectionHook']
