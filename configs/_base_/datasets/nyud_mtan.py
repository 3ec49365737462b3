# NYUD-v2, MTAN / MTPSL preprocessing: 13 classes, 288x384, semseg/depth/normal.
# The DiffusionMTL NYUD benchmark. Partial labels: set
# train_dataloader.dataset.split_file to e.g. 'nyuv2_onelabel' or
# 'nyuv2_randomlabels' (shipped MTPSL files, rows <-> train/*/{i}.npy).
_base_ = ['./mtl_common.py']
dataset_type = 'NYUDv2MTANDataset'
data_root = 'data/nyud_mtan'
tasks = ['semseg', 'depth', 'normal']
crop_size = (288, 384)
# loading, flip, photometric distortion and packing: mtl_common.py
train_pipeline = _base_.train_pipeline[:2] + [
    # scale is (w, h); depth values are never rescaled
    dict(type='MTLRandomResize', scale=(384, 288), ratio_range=(1.0, 1.5), keep_ratio=True),
    dict(type='MTLRandomCrop', crop_size=crop_size),
] + _base_.train_pipeline[2:]
__dataset = dict(type=dataset_type, data_root=data_root, tasks=tasks)
train_dataloader = dict(
    dataset=dict(__dataset, split_file=None, pipeline=train_pipeline))
val_dataloader = dict(dataset=__dataset)
test_dataloader = val_dataloader
