# Tiny version of the quick-start config for end-to-end tests: 16/6 images at
# 48x64, batch 2, no workers, 4 iterations. data_root is set by the tests
# with --cfg-options (train/val/test_dataloader.dataset.data_root=...).
_base_ = ['../../../configs/diffusionmtl/diffusionmtl_r18-lite_1xb8-1k_synthetic-96x128.py']
synthetic_cfg = dict(num_train=16, num_val=6, height=48, width=64, seed=0)
crop_size = (48, 64)
train_pipeline = [
    dict(type='LoadMultiTaskImage'),
    dict(type='LoadMultiTaskAnnotations'),
    dict(type='MTLRandomResize', scale=(64, 48), ratio_range=(0.75, 1.25), keep_ratio=True),
    dict(type='MTLRandomCrop', crop_size=crop_size),
    dict(type='MTLRandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackMTLInputs'),
]
model = dict(data_preprocessor=dict(size=crop_size))
train_dataloader = dict(
    batch_size=2, num_workers=0,
    dataset=dict(pipeline=train_pipeline, **synthetic_cfg))
val_dataloader = dict(batch_size=2, num_workers=0, dataset=dict(**synthetic_cfg))
test_dataloader = val_dataloader
train_cfg = dict(max_iters=4, val_interval=4)
param_scheduler = [dict(type='ConstantLR', factor=1.0, begin=0, end=4, by_epoch=False)]
default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(interval=2, max_keep_ckpts=3))
randomness = dict(seed=0, deterministic=True)
