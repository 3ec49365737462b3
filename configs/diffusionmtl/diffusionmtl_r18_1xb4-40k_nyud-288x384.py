# DiffusionMTL (feature diffusion, T=2), ResNet-18, NYUD-v2 in the MTAN/MTPSL
# format (13 classes, 288x384): semseg + depth + normal, the paper's Table 3
# NYUD setting. One-label partial labels by default (published split file,
# see README); use ..._randomlabels or --cfg-options to change.
# Paper (Table 3, one-label, Feature): mIoU 44.47, absErr 0.5059, mErr 25.84.
# The paper starts from an ImageNet-pretrained ResNet-18: in a child config set
#   model = dict(backbone=dict(init_cfg=dict(
#       _delete_=True, type='Pretrained', checkpoint='torchvision://resnet18')))
# when you have network access (CI and offline machines use random init);
# `_delete_` is needed because the base sets init_cfg=None.
_base_ = [
    '../_base_/models/diffusionmtl_r18.py',
    '../_base_/recipes/nyud_mtan_onelabel_40k.py',
]
# training batches are padded to the crop size by the data preprocessor
model = dict(data_preprocessor=dict(size={{_base_.crop_size}}))
