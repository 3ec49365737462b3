# Multi-task baseline (shared fusion + per-task preliminary decoders, no
# diffusion) with ResNet-18: the "MTL Baseline" of the paper.
_base_ = ['./diffusionmtl_r18.py']
model = dict(
    decode_head=dict(
        _delete_=True,
        type='MTLBaselineHead',
        in_channels=[64, 128, 256, 512],
        tasks=dict(semseg=13, depth=1, normal=3),
        preset='paper',
        pred_head_init='default',
        fusion_init='default',
        depth_activation='linear',
        norm_cfg={{_base_.norm_cfg}},
        loss_decode=dict(
            semseg=dict(type='MTLCrossEntropyLoss', loss_weight=1.0),
            depth=dict(type='DepthL1Loss', loss_weight=1.0),
            normal=dict(type='NormalL1Loss', loss_weight=10.0))))
find_unused_parameters = False
