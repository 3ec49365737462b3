# DiffusionMTL (feature) with ResNetV1c-50 on NYUD-v2 MTAN (one-label).
_base_ = [
    '../_base_/models/diffusionmtl_r50.py',
    '../_base_/recipes/nyud_mtan_onelabel_40k.py',
]
# training batches are padded to the crop size by the data preprocessor
model = dict(data_preprocessor=dict(size={{_base_.crop_size}}))
