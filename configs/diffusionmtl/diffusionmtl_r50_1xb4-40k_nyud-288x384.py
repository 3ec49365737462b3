# DiffusionMTL (feature) with ResNetV1c-50 on NYUD-v2 MTAN (one-label).
_base_ = [
    '../_base_/models/diffusionmtl_r50.py',
    '../_base_/datasets/nyud_mtan.py',
    '../_base_/evaluation/nyud_mtan.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_40k_adam.py',
]
# training batches are padded to the crop size by the data preprocessor
model = dict(data_preprocessor=dict(size={{_base_.crop_size}}))
train_dataloader = dict(
    batch_size=4,
    dataset=dict(split_file='nyuv2_onelabel'))
val_evaluator = dict(baselines={{_base_.nyud_stl_onelabel}})
test_evaluator = val_evaluator
