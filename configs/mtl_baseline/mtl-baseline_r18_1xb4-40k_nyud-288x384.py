# MTL baseline (no diffusion), ResNet-18, NYUD-v2 MTAN, one-label.
# Paper (Table 3, one-label): mIoU 43.92, absErr 0.5138, mErr 26.44.
_base_ = [
    '../_base_/models/mtl_baseline_r18.py',
    '../_base_/recipes/nyud_mtan_onelabel_40k.py',
]
# training batches are padded to the crop size by the data preprocessor
model = dict(data_preprocessor=dict(size={{_base_.crop_size}}))
