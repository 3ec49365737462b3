# As diffusionmtl_r18_1xb4-40k_nyud-288x384.py with the published random-label
# split. Paper (Table 3, random, Feature): mIoU 46.82, absErr 0.4743, mErr 24.75.
_base_ = ['./diffusionmtl_r18_1xb4-40k_nyud-288x384.py']
train_dataloader = dict(
    dataset=dict(split_file='nyuv2_randomlabels'))
val_evaluator = dict(baselines={{_base_.nyud_stl_randomlabels}})
test_evaluator = val_evaluator
