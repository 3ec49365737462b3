# Evaluation for Cityscapes in the MTAN version (7 classes, 128x256):
# semseg mIoU and depth absErr (MTAN disparity-derived units, pooled over all
# valid pixels), with Δm against DiffusionMTL Table 1's single-task numbers
# (one-label = random-label on Cityscapes).
cityscapes_stl = {
    'semseg/mIoU': 75.82,
    'depth/absErr': 0.0125,
}
val_evaluator = dict(
    type='MultiTaskMetric',
    task_metrics=[
        dict(type='MTLIoUMetric', task='semseg'),
        dict(type='MTLDepthMetric'),
    ],
    baselines=cityscapes_stl)
test_evaluator = val_evaluator
