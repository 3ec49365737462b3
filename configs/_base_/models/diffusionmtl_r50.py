# DiffusionMTL (feature diffusion, T=2) with ResNet-50 (V1c stem): the R50
# rows of the paper's Table 2. Everything else is the ResNet-18 model.
_base_ = ['./diffusionmtl_r18.py']
model = dict(
    backbone=dict(type='ResNetV1c', depth=50, contract_dilation=True),
    decode_head=dict(in_channels=[256, 512, 1024, 2048]))
