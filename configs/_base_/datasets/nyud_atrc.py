# NYUD-v2, ATRC / MTI-Net / InvPT layout: 40 classes + edges, 480x640 images.
# Train crops 448x576 as TaskPrompter does.
_base_ = ['./mtl_common.py']
dataset_type = 'NYUDv2ATRCDataset'
data_root = 'data/nyud_atrc'
tasks = ['semseg', 'depth', 'normal', 'edge']
crop_size = (448, 576)
# loading, flip, photometric distortion and packing: mtl_common.py
train_pipeline = _base_.train_pipeline[:2] + [
    dict(type='MTLRandomResize', scale=(640, 480), ratio_range=(1.0, 1.5), keep_ratio=True),
    dict(type='MTLRandomCrop', crop_size=crop_size),
] + _base_.train_pipeline[2:]
__dataset = dict(type=dataset_type, data_root=data_root, tasks=tasks)
train_dataloader = dict(
    dataset=dict(__dataset, split_file=None, pipeline=train_pipeline))
val_dataloader = dict(dataset=__dataset)
test_dataloader = val_dataloader
