# Evaluation for the embedded synthetic indoor dataset (semseg, depth,
# normal, edge at 96x128). The baselines are NOMINAL reference values (not
# measured single-task results): on synthetic data mtl/delta_m is a
# relative model-selection score; replace them with your own single-task
# numbers for a real Δm.
synthetic_stl_nominal = {
    'semseg/mIoU': 50.0,
    'depth/absErr': 0.5,
    'normal/mean': 20.0,
    'edge/odsF': 50.0,
}
val_evaluator = dict(
    type='MultiTaskMetric',
    task_metrics=[
        dict(type='MTLIoUMetric', task='semseg'),
        dict(type='MTLDepthMetric'),
        dict(type='SurfaceNormalMetric'),
        dict(type='BoundaryMetric', max_dist=0.011, thresholds=15),
    ],
    baselines=synthetic_stl_nominal)
test_evaluator = val_evaluator
