# Single-task depth model (ResNet-18, NYUD-v2 MTAN, one-label: trained on the
# 265 depth-labelled images); recipe of stl-semseg_r18_1xb4-40k_nyud-288x384.py.
# Paper single-task absErr (one-label): 0.4802.
# The single-task models of semseg / depth / normal give the references of
# Δm (`baselines` of the multi-task configs).
_base_ = ['./stl-semseg_r18_1xb4-40k_nyud-288x384.py']
tasks = ['depth']
model = dict(
    decode_head=dict(
        tasks=dict(_delete_=True, depth=1),
        loss_decode=dict(_delete_=True, depth=dict(type='DepthL1Loss', loss_weight=1.0))))
train_dataloader = dict(dataset=dict(tasks=tasks))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
# `_delete_`: the inherited baselines would be merged into this dict and name
# metrics this evaluator does not compute (refused before training).
val_evaluator = dict(
    task_metrics=[dict(type='MTLDepthMetric')],
    baselines={'_delete_': True, 'depth/absErr': 0.4802})
test_evaluator = val_evaluator
