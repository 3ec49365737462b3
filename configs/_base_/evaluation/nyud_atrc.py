# Evaluation for NYUD-v2 in the ATRC / MTI-Net version (40 classes, with
# boundaries): semseg mIoU, depth (pooled; rmse is the usual headline here),
# normal mean error and boundary odsF with maxDist 0.011 of the diagonal.
# DiffusionMTL reports no numbers on this version: set `baselines` to your
# single-task results to get mtl/delta_m (required by save_best='mtl/delta_m').
nyud_atrc_stl = {
    'semseg/mIoU': 40.0,  # placeholders: replace with single-task numbers
    'depth/rmse': 0.60,
    'normal/mean': 20.0,
    'edge/odsF': 75.0,
}
_metrics = [
    dict(type='MTLIoUMetric', task='semseg'),
    dict(type='MTLDepthMetric'),
    dict(type='SurfaceNormalMetric'),
]
val_evaluator = dict(
    type='MultiTaskMetric',
    # 15 thresholds during training keep validation fast; test uses HED's 99.
    task_metrics=_metrics + [dict(type='BoundaryMetric', max_dist=0.011, thresholds=15)],
    baselines=nyud_atrc_stl)
test_evaluator = dict(
    val_evaluator,
    task_metrics=_metrics + [dict(type='BoundaryMetric', max_dist=0.011, thresholds=99)])
