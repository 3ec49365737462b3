# Cityscapes, MTAN / MTPSL preprocessing: 7 classes + depth, 128x256.
# Partial labels: split_file='cityscapes_onelabel' (shipped MTPSL file, 2975 rows).
_base_ = ['./mtl_common.py']
dataset_type = 'CityscapesMTANDataset'
data_root = 'data/cityscapes_mtan'
tasks = ['semseg', 'depth']
crop_size = (128, 256)
# loading, flip, photometric distortion and packing: mtl_common.py
train_pipeline = _base_.train_pipeline[:2] + [
    dict(type='MTLRandomResize', scale=(256, 128), ratio_range=(1.0, 1.5), keep_ratio=True),
    dict(type='MTLRandomCrop', crop_size=crop_size),
] + _base_.train_pipeline[2:]
__dataset = dict(type=dataset_type, data_root=data_root, tasks=tasks)
train_dataloader = dict(
    batch_size=8,
    dataset=dict(__dataset, split_file=None, pipeline=train_pipeline))
val_dataloader = dict(dataset=__dataset)
test_dataloader = val_dataloader
