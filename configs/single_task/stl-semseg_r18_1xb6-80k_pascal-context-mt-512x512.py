# Single-task semantic segmentation model (ResNet-18, PASCAL-Context, 21
# classes, one-label: trained only on the images labelled for semseg in the
# published split). The recipe is that of
# diffusionmtl_r18_1xb6-80k_pascal-context-mt-512x512.py (batch 6, Adam 2e-5,
# 83.3k iterations, the same loss weight per task). The other PASCAL
# single-task configs (stl-{parts,sal,normal,edge}_...) inherit from this one
# and swap the task. Paper single-task mIoU (Table 3, one-label): 50.34.
_base_ = [
    '../_base_/models/stl_r18.py',
    '../_base_/recipes/pascal_context_mt_onelabel_80k.py',
]
tasks = ['semseg']
model = dict(
    data_preprocessor=dict(size_divisor=None, size=(512, 512),
                           test_cfg=dict(size=(512, 512))),
    decode_head=dict(
        tasks=dict(_delete_=True, semseg=21),
        loss_decode=dict(
            _delete_=True, semseg=dict(type='MTLCrossEntropyLoss', loss_weight=1.0))))
train_dataloader = dict(dataset=dict(tasks=tasks, skip_unlabeled=True))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
# `_delete_`: the base config's baselines (all five tasks) would be merged
# into this dict and name metrics this evaluator does not compute.
val_evaluator = dict(
    task_metrics=[dict(type='MTLIoUMetric', task='semseg')],
    baselines={'_delete_': True, 'semseg/mIoU': 50.34})
test_evaluator = val_evaluator
