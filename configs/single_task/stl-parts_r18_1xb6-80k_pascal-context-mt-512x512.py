# Single-task human-parts model (ResNet-18, PASCAL-Context, one-label: trained
# only on the images labelled for parts in the published split); recipe of
# stl-semseg_r18_1xb6-80k_pascal-context-mt-512x512.py.
# Paper single-task human-parts mIoU (Table 3, one-label): 59.05.
_base_ = ['./stl-semseg_r18_1xb6-80k_pascal-context-mt-512x512.py']
tasks = ['parts']
model = dict(
    decode_head=dict(
        tasks=dict(_delete_=True, parts=7),
        loss_decode=dict(
            _delete_=True,
            parts=dict(type='MTLCrossEntropyLoss', loss_weight=2.0))))
train_dataloader = dict(dataset=dict(tasks=tasks))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
val_evaluator = dict(
    task_metrics=[dict(type='MTLIoUMetric', task='parts')],
    baselines={'_delete_': True, 'parts/mIoU': 59.05})
test_evaluator = val_evaluator
