# DiffusionMTL (feature) with a transformer backbone (SegFormer MiT-b0) on
# NYUD-v2 MTAN (one-label).
_base_ = [
    '../_base_/models/diffusionmtl_mit-b0.py',
    '../_base_/recipes/nyud_mtan_onelabel_40k.py',
]
# training batches are padded to the crop size by the data preprocessor
model = dict(data_preprocessor=dict(size={{_base_.crop_size}}))
