# NYUD-v2, MTAN / MTPSL preprocessing: 13 classes, 288x384, semseg/depth/normal.
# The DiffusionMTL NYUD benchmark. Partial labels: set
# train_dataloader.dataset.split_file to e.g. 'nyuv2_onelabel' or
# 'nyuv2_randomlabels' (shipped MTPSL files, rows <-> train/*/{i}.npy).
dataset_type = 'NYUDv2MTANDataset'
data_root = 'data/nyud_mtan'
tasks = ['semseg', 'depth', 'normal']
crop_size = (288, 384)
train_pipeline = [
    dict(type='LoadMultiTaskImage'),
    dict(type='LoadMultiTaskAnnotations'),
    # scale is (w, h); depth values are never rescaled
    dict(type='MTLRandomResize', scale=(384, 288), ratio_range=(1.0, 1.5), keep_ratio=True),
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
    batch_size=4,
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
