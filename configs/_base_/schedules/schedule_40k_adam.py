# Paper-like schedule: Adam, lr 2e-5, weight decay 1e-6, poly decay
# (power 0.9), gradient clipping at L2 norm 10 (paper.md §2.1).
# fused=True: torch's single-kernel Adam (CPU and CUDA); same update as the
# per-parameter loop within float32 rounding. The optimiser step alone is much
# faster; the whole training step at paper size on 2 idle CPU cores is not
# measurably (tools/analysis_tools/benchmark.py --plain-adam).
optimizer = dict(type='Adam', lr=2e-5, weight_decay=1e-6, fused=True)
optim_wrapper = dict(
    type='OptimWrapper', optimizer=optimizer, clip_grad=dict(max_norm=10.0))
param_scheduler = [
    dict(
        type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=40000,
        by_epoch=False)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=40000, val_interval=4000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=4000, max_keep_ckpts=3,
        save_best='mtl/delta_m', rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='MTLVisualizationHook'))
