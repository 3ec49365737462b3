# Single-task semantic segmentation model (ResNet-18, NYUD-v2 MTAN, 13
# classes, one-label: trained on the 265 semseg-labelled images).
# Paper single-task mIoU (one-label): 45.28.
# The single-task models of semseg / depth / normal give the references of
# Δm (`baselines` of the multi-task configs).
_base_ = [
    '../_base_/models/stl_r18.py',
    '../_base_/recipes/nyud_mtan_onelabel_40k.py',
]
tasks = ['semseg']
# the head (semseg, 13 classes) is that of the single-task model base;
# training batches are padded to the crop size by the data preprocessor
model = dict(data_preprocessor=dict(size={{_base_.crop_size}}))
train_dataloader = dict(dataset=dict(tasks=tasks, skip_unlabeled=True))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
# `_delete_`: the base config's baselines (semseg, depth, normal) would be
# merged into this dict and name metrics this evaluator does not compute.
val_evaluator = dict(
    task_metrics=[dict(type='MTLIoUMetric', task='semseg')],
    baselines={'_delete_': True, 'semseg/mIoU': 45.28})
test_evaluator = val_evaluator
