# Everything but the model of the quick-start setting: the embedded synthetic
# indoor dataset (96x128, semseg / depth / normal / edge) with its nominal
# evaluation, runtime, and the short AdamW schedule cut to 1000 iterations
# (warm-up 100, validation every 500), seed 0. A config combines it with a
# model base whose data preprocessor pads every batch to 96x128:
#   data_preprocessor=dict(size_divisor=None, size=(96, 128))
_base_ = [
    '../datasets/synthetic_indoor.py',
    '../evaluation/synthetic_indoor.py',
    '../default_runtime.py',
    '../schedules/schedule_2k_adamw.py',
]
train_cfg = dict(max_iters=1000, val_interval=500)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, begin=0, end=100, by_epoch=False),
    dict(type='PolyLR', eta_min=1e-6, power=0.9, begin=100, end=1000,
         by_epoch=False),
]
randomness = dict(seed=0)
