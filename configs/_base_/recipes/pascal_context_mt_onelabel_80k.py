# Everything but the model of the PASCAL-Context multi-task benchmark
# (DiffusionMTL Table 3, 512x512 crops, five tasks): data with the published
# one-label split, batch 6, evaluation with Δm against the paper's one-label
# single-task numbers, runtime, and the official recipe's schedule: Adam 2e-5
# with poly decay over ~83k iterations (100 epochs). A config combines it with
# a model base whose data preprocessor pads every batch to 512x512:
#   data_preprocessor=dict(size_divisor=None, size=(512, 512),
#                          test_cfg=dict(size=(512, 512)))
_base_ = [
    '../datasets/pascal_context_mt.py',
    '../evaluation/pascal_context_mt.py',
    '../default_runtime.py',
    '../schedules/schedule_40k_adam.py',
]
train_dataloader = dict(
    batch_size=6,
    dataset=dict(split_file='pascal_onelabel'))
train_cfg = dict(max_iters=83300, val_interval=8330)
param_scheduler = [
    dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=83300, by_epoch=False)
]
