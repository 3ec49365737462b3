# Cityscapes, MTAN / MTPSL preprocessing: 7 classes + depth, 128x256.
# Partial labels: split_file='cityscapes_onelabel' (shipped MTPSL file, 2975 rows).
dataset_type = 'CityscapesMTANDataset'
data_root = 'data/cityscapes_mtan'
tasks = ['semseg', 'depth']
crop_size = (128, 256)
train_pipeline = [
    dict(type='LoadMultiTaskImage'),
    dict(type='LoadMultiTaskAnnotations'),
    dict(type='MTLRandomResize', scale=(256, 128), ratio_range=(1.0, 1.5), keep_ratio=True),
    dict(type='MTLRandomCrop', crop_size=crop_size),
    dict(type='MTLRandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='MTLPad', size=crop_size),
    dict(type='PackMTLInputs'),
]
test_pipeline = [
    dict(type='LoadMultiTaskImage'),
    dict(type='LoadMultiTaskAnnotations'),
    dict(type='PackMTLInputs'),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        subset='train',
        tasks=tasks,
        split_file=None,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        subset='val',
        tasks=tasks,
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
