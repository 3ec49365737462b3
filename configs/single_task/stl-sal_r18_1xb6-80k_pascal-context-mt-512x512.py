# Single-task saliency model (ResNet-18, PASCAL-Context, one-label: trained
# only on the images labelled for sal in the published split); recipe of
# stl-semseg_r18_1xb6-80k_pascal-context-mt-512x512.py.
# Paper single-task saliency maxF (Table 3, one-label): 77.43.
_base_ = ['./stl-semseg_r18_1xb6-80k_pascal-context-mt-512x512.py']
tasks = ['sal']
model = dict(
    decode_head=dict(
        tasks=dict(_delete_=True, sal=1),
        loss_decode=dict(
            _delete_=True,
            sal=dict(type='BalancedBCELoss', pos_weight=None, loss_weight=5.0))))
train_dataloader = dict(dataset=dict(tasks=tasks))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
val_evaluator = dict(
    task_metrics=[dict(type='SaliencyMetric')],
    baselines={'_delete_': True, 'sal/maxF': 77.43})
test_evaluator = val_evaluator
