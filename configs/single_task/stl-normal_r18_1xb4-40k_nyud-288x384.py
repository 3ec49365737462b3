# Single-task surface-normal model (ResNet-18, NYUD-v2 MTAN, one-label:
# trained on the 265 normal-labelled images); recipe of
# stl-semseg_r18_1xb4-40k_nyud-288x384.py. Paper single-task mErr
# (one-label): 25.93.
_base_ = ['./stl-semseg_r18_1xb4-40k_nyud-288x384.py']
tasks = ['normal']
model = dict(
    decode_head=dict(
        tasks=dict(_delete_=True, normal=3),
        loss_decode=dict(_delete_=True, normal=dict(type='NormalL1Loss', loss_weight=10.0))))
train_dataloader = dict(dataset=dict(tasks=tasks))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
val_evaluator = dict(
    task_metrics=[dict(type='SurfaceNormalMetric')],
    baselines={'_delete_': True, 'normal/mean': 25.93})
test_evaluator = val_evaluator
