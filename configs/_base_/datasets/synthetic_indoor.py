# Synthetic indoor scenes rendered on first use into
# data_root/gen-v1_n1000-200_96x128_seed0/ (MTAN layout, 96x128): semseg,
# depth, normal, edge. For quick CPU experiments and tests. Other settings
# add a generation beside it (nothing is deleted); a non-empty data_root the
# generator did not write is refused. Partial labels:
# train_dataloader.dataset.split_mode='onelabel' or 'randomlabels' (a seeded
# split is generated and cached in the generation's splits/ folder).
_base_ = ['./mtl_common.py']
dataset_type = 'SyntheticIndoorDataset'
data_root = 'data/synthetic_indoor'
tasks = ['semseg', 'depth', 'normal', 'edge']
crop_size = (96, 128)
synthetic_cfg = dict(num_train=1000, num_val=200, height=96, width=128, seed=0)
# loading, flip, photometric distortion and packing: mtl_common.py
train_pipeline = _base_.train_pipeline[:2] + [
    dict(type='MTLRandomResize', scale=(128, 96), ratio_range=(0.75, 1.25), keep_ratio=True),
    dict(type='MTLRandomCrop', crop_size=crop_size),
] + _base_.train_pipeline[2:]
__dataset = dict(type=dataset_type, data_root=data_root, tasks=tasks)
train_dataloader = dict(
    batch_size=8,
    dataset=dict(__dataset, split_mode=None, **synthetic_cfg,
                 pipeline=train_pipeline))
val_dataloader = dict(batch_size=8, dataset=dict(__dataset, **synthetic_cfg))
test_dataloader = val_dataloader
