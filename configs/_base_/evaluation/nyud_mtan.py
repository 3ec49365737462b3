# Evaluation for NYUD-v2 in the MTAN/MTPSL version (13 classes, 288x384) as
# used by DiffusionMTL Table 3: semseg mIoU, depth absErr (metres, pooled over
# all valid pixels of the test set), normal mean angular error (degrees).
# Δm (mtl/delta_m, percent) is computed against the paper's single-task
# baselines of the same label setting; select one of the dicts below with
#   val_evaluator = dict(baselines={{_base_.nyud_stl_randomlabels}})
# or override the numbers with your own single-task runs.
nyud_stl_onelabel = {
    'semseg/mIoU': 45.28,
    'depth/absErr': 0.4802,
    'normal/mean': 25.93,
}
nyud_stl_randomlabels = {
    'semseg/mIoU': 48.25,
    'depth/absErr': 0.4792,
    'normal/mean': 24.65,
}
val_evaluator = dict(
    type='MultiTaskMetric',
    task_metrics=[
        dict(type='MTLIoUMetric', task='semseg'),
        dict(type='MTLDepthMetric'),
        dict(type='SurfaceNormalMetric'),
    ],
    baselines=nyud_stl_onelabel)
test_evaluator = val_evaluator
