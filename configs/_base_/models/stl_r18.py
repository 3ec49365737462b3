# Single-task baseline with ResNet-18: MTLBaselineHead with one task. Set
# model.decode_head.tasks (and loss_decode) to the task, e.g.
# tasks=dict(depth=1) or tasks=dict(normal=3); train one model per task to
# get the single-task reference of Delta_m.
_base_ = ['./mtl_baseline_r18.py']
model = dict(
    decode_head=dict(
        tasks=dict(_delete_=True, semseg=13),
        loss_decode=dict(
            _delete_=True,
            semseg=dict(type='MTLCrossEntropyLoss', loss_weight=1.0))))
