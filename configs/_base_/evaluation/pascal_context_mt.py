# Evaluation for multi-task PASCAL-Context (DiffusionMTL Table 3): semseg
# mIoU (21 classes), human parts mIoU (7), saliency maxF (beta^2 = 0.3,
# pooled), normal mean error, boundary odsF (BSDS/SEISM protocol, maxDist
# 0.0075 of the diagonal). Δm against the paper's single-task baselines of the
# same label setting (pick one dict, or use your own single-task numbers).
pascal_stl_onelabel = {
    'semseg/mIoU': 50.34,
    'parts/mIoU': 59.05,
    'sal/maxF': 77.43,
    'normal/mean': 16.59,
    'edge/odsF': 64.40,
}
pascal_stl_randomlabels = {
    'semseg/mIoU': 51.51,
    'parts/mIoU': 57.90,
    'sal/maxF': 80.30,
    'normal/mean': 15.24,
    'edge/odsF': 67.80,
}
_metrics = [
    dict(type='MTLIoUMetric', task='semseg'),
    dict(type='MTLIoUMetric', task='parts'),
    dict(type='SaliencyMetric'),
    dict(type='SurfaceNormalMetric'),
]
val_evaluator = dict(
    type='MultiTaskMetric',
    # The boundary metric costs ~1-2 s per image with 99 thresholds; 15
    # thresholds keep validation during training affordable (slightly lower
    # odsF). The test evaluator uses the published 99 HED thresholds.
    task_metrics=_metrics + [dict(type='BoundaryMetric', max_dist=0.0075, thresholds=15)],
    baselines=pascal_stl_onelabel)
test_evaluator = dict(
    val_evaluator,
    task_metrics=_metrics + [dict(type='BoundaryMetric', max_dist=0.0075, thresholds=99)])
