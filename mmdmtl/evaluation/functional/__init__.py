"""Pure numpy / torch metric math (no mmengine state)."""
from .boundary import (
    COUNT_KEYS,
    boundary_counts,
    boundary_scores,
    hed_thresholds,
    match_boundary_pixels,
    thin_binary,
)
from .delta_m import HEADLINE_METRICS, delta_m, flatten_baselines, metric_higher_is_better
from .depth import (
    DEPTH_DISC_NAMES,
    DEPTH_DISC_STAT_KEYS,
    DEPTH_METRIC_NAMES,
    DEPTH_STAT_KEYS,
    depth_metrics_from_statistics,
    depth_statistics,
    depth_valid_mask,
)
from .discontinuity import DISCONTINUITY_KINDS, check_disc_args, discontinuity_mask
from .normal import (
    NORMAL_DISC_NAMES,
    NORMAL_METRIC_NAMES,
    NORMAL_THRESHOLDS,
    normal_angular_error,
    normal_metrics_from_statistics,
    normal_statistics,
)
from .saliency import saliency_max_f, saliency_statistics, saliency_thresholds

__all__ = [
    'COUNT_KEYS', 'boundary_counts', 'boundary_scores', 'hed_thresholds',
    'match_boundary_pixels', 'thin_binary', 'HEADLINE_METRICS', 'delta_m', 'flatten_baselines',
    'metric_higher_is_better', 'DEPTH_DISC_NAMES', 'DEPTH_DISC_STAT_KEYS', 'DEPTH_METRIC_NAMES',
    'DEPTH_STAT_KEYS', 'depth_metrics_from_statistics', 'depth_statistics', 'depth_valid_mask',
    'DISCONTINUITY_KINDS', 'check_disc_args', 'discontinuity_mask', 'NORMAL_DISC_NAMES',
    'NORMAL_METRIC_NAMES',
    'NORMAL_THRESHOLDS', 'normal_angular_error',
    'normal_metrics_from_statistics', 'normal_statistics', 'saliency_max_f',
    'saliency_statistics', 'saliency_thresholds'
]
