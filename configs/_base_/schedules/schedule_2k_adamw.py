# Short CPU schedule for the embedded synthetic dataset: AdamW 1e-3 with a
# linear warm-up then poly decay, 2k iterations.
# fused=True: torch's single-kernel AdamW, same update within float32 rounding.
optimizer = dict(type='AdamW', lr=1e-3, weight_decay=1e-4, fused=True)
optim_wrapper = dict(
    type='OptimWrapper', optimizer=optimizer, clip_grad=dict(max_norm=10.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, begin=0, end=100, by_epoch=False),
    dict(type='PolyLR', eta_min=1e-6, power=0.9, begin=100, end=2000,
         by_epoch=False),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=2000, val_interval=500)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=500, max_keep_ckpts=2,
        save_best='mtl/delta_m', rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='MTLVisualizationHook'))
