# PASCAL-Context multi-task (ATRC PASCAL_MT layout): semseg 21, human parts,
# saliency, normals, edges. DiffusionMTL recipe: random scale 0.5-2.0, crop
# 512x512 (cat_max_ratio 0.75), flip, photometric distortion.
# Partial labels: split_file='pascal_onelabel' or 'pascal_randomlabels' (shipped
# MTPSL files, matched by image id).
_base_ = ['./mtl_common.py']
dataset_type = 'PascalContextMTDataset'
data_root = 'data/PASCAL_MT'
tasks = ['semseg', 'parts', 'sal', 'normal', 'edge']
crop_size = (512, 512)
# loading, flip, photometric distortion and packing: mtl_common.py
train_pipeline = _base_.train_pipeline[:2] + [
    dict(type='MTLRandomResize', scale=(512, 512), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='MTLRandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
] + _base_.train_pipeline[2:]
# Test images are padded to 512x512 by the data preprocessor
# (test_cfg=dict(size=(512, 512)) in the model config).
__dataset = dict(type=dataset_type, data_root=data_root, tasks=tasks)
train_dataloader = dict(
    batch_size=6,
    dataset=dict(__dataset, split_file=None, edge_source='label_map',
                 pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(__dataset, edge_source='label_map'))
test_dataloader = val_dataloader
