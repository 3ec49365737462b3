# Everything but the model of the NYUD-v2 MTAN benchmark (DiffusionMTL Table 3,
# 288x384, semseg / depth / normal): data with the published one-label split,
# batch 4, evaluation with Δm against the paper's one-label single-task
# numbers, runtime, Adam 40k schedule. A config combines it with a model base:
#   _base_ = ['../_base_/models/<model>.py', '../_base_/recipes/nyud_mtan_onelabel_40k.py']
#   model = dict(data_preprocessor=dict(size={{_base_.crop_size}}))
# (the last line pads training batches to the crop size in the preprocessor).
_base_ = [
    '../datasets/nyud_mtan.py',
    '../evaluation/nyud_mtan.py',
    '../default_runtime.py',
    '../schedules/schedule_40k_adam.py',
]
train_dataloader = dict(
    batch_size=4,
    dataset=dict(split_file='nyuv2_onelabel'))
