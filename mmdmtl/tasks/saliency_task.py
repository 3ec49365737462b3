"""Salient object detection."""
from mmdmtl.registry import TASKS

from .binary_map_task import BinaryMapTask


@TASKS.register_module('sal')
class SaliencyTask(BinaryMapTask):
    """Saliency (``sal``): 0/255 images thresholded at 0.5, maxF."""

    name = 'sal'
    headline_metric = 'maxF'
    metric_directions = {'maxF': True}
    default_loss = dict(type='BalancedBCELoss', pos_weight=None, loss_weight=5.0)
    default_metric = dict(type='SaliencyMetric')
    published_names = ('sal', 'saliency')
