# Short CPU schedule for the embedded synthetic dataset: AdamW 1e-3 with a
# linear warm-up then poly decay, 2k iterations. Loops, hooks and gradient
# clipping are those of the 40k schedule.
# fused=True (inherited): torch's single-kernel AdamW, same update within float32 rounding.
_base_ = ['./schedule_40k_adam.py']
optimizer = dict(type='AdamW', lr=1e-3, weight_decay=1e-4)
optim_wrapper = dict(optimizer=optimizer)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, begin=0, end=100, by_epoch=False),
    dict(type='PolyLR', eta_min=1e-6, power=0.9, begin=100, end=2000,
         by_epoch=False),
]
train_cfg = dict(max_iters=2000, val_interval=500)
default_hooks = dict(checkpoint=dict(interval=500, max_keep_ckpts=2))
