# Single-task semantic segmentation model (ResNet-18, NYUD-v2 MTAN, 13
# classes, one-label: trained on the 265 semseg-labelled images).
# Paper single-task mIoU (one-label): 45.28.
# The single-task models of semseg / depth / normal give the references of
# Δm (`baselines` of the multi-task configs).
_base_ = [
    '../_base_/models/stl_r18.py',
    '../_base_/datasets/nyud_mtan.py',
    '../_base_/evaluation/nyud_mtan.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_40k_adam.py',
]
tasks = ['semseg']
model = dict(
    # training batches are padded to the crop size by the data preprocessor
    data_preprocessor=dict(size={{_base_.crop_size}}),
    decode_head=dict(
        tasks=dict(_delete_=True, semseg=13),
        loss_decode=dict(
            _delete_=True, semseg=dict(type='MTLCrossEntropyLoss', loss_weight=1.0))))
train_dataloader = dict(
    batch_size=4,
    dataset=dict(tasks=tasks, split_file='nyuv2_onelabel',
                 skip_unlabeled=True))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
# `_delete_`: the base config's baselines (semseg, depth, normal) would be
# merged into this dict and name metrics this evaluator does not compute.
val_evaluator = dict(
    task_metrics=[dict(type='MTLIoUMetric', task='semseg')],
    baselines={'_delete_': True, 'semseg/mIoU': 45.28})
test_evaluator = val_evaluator
