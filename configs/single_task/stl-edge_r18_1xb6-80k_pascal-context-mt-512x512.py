# Single-task boundary model (ResNet-18, PASCAL-Context, one-label: trained
# only on the images labelled for edge in the published split); recipe of
# stl-semseg_r18_1xb6-80k_pascal-context-mt-512x512.py.
# Paper single-task boundary odsF (Table 3, one-label): 64.40.
_base_ = ['./stl-semseg_r18_1xb6-80k_pascal-context-mt-512x512.py']
tasks = ['edge']
model = dict(
    decode_head=dict(
        tasks=dict(_delete_=True, edge=1),
        loss_decode=dict(
            _delete_=True,
            edge=dict(type='BalancedBCELoss', pos_weight=0.95, loss_weight=50.0))))
train_dataloader = dict(dataset=dict(tasks=tasks))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
# 15 thresholds keep validation during training affordable; the test
# evaluator uses the published 99 HED thresholds.
val_evaluator = dict(
    task_metrics=[dict(type='BoundaryMetric', max_dist=0.0075, thresholds=15)],
    baselines={'_delete_': True, 'edge/odsF': 64.40})
test_evaluator = dict(
    task_metrics=[dict(type='BoundaryMetric', max_dist=0.0075, thresholds=99)],
    baselines={'_delete_': True, 'edge/odsF': 64.40})
