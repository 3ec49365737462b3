# Single-task surface-normal model (ResNet-18, PASCAL-Context, one-label: trained
# only on the images labelled for normal in the published split); recipe of
# stl-semseg_r18_1xb6-80k_pascal-context-mt-512x512.py.
# Paper single-task normal mErr (Table 3, one-label): 16.59.
_base_ = ['./stl-semseg_r18_1xb6-80k_pascal-context-mt-512x512.py']
tasks = ['normal']
model = dict(
    decode_head=dict(
        tasks=dict(_delete_=True, normal=3),
        loss_decode=dict(
            _delete_=True,
            normal=dict(type='NormalL1Loss', loss_weight=10.0))))
train_dataloader = dict(dataset=dict(tasks=tasks))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
val_evaluator = dict(
    task_metrics=[dict(type='SurfaceNormalMetric')],
    baselines={'_delete_': True, 'normal/mean': 16.59})
test_evaluator = val_evaluator
