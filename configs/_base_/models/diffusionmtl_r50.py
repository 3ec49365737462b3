# DiffusionMTL (feature diffusion, T=2) with ResNet-50.
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='MTLDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    size_divisor=32)
model = dict(
    type='MultiTaskEncoderDecoder',
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='ResNetV1c',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 1, 1),
        strides=(1, 2, 2, 2),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        contract_dilation=True,
        init_cfg=None),
    neck=None,
    decode_head=dict(
        type='DiffusionMTLHead',
        in_channels=[256, 512, 1024, 2048],
        tasks=dict(semseg=13, depth=1, normal=3),
        preset='paper',
        variant='feature',
        num_timesteps=2,
        # official initialisations and raw depth (docs/en/official_comparison.md)
        pred_head_init='default',
        fusion_init='default',
        cond_proj_init='kaiming',
        timestep_bias_init='default',
        depth_activation='linear',
        norm_cfg=norm_cfg,
        loss_decode=dict(
            semseg=dict(type='MTLCrossEntropyLoss', loss_weight=1.0),
            depth=dict(type='DepthL1Loss', loss_weight=1.0),
            normal=dict(type='NormalL1Loss', loss_weight=10.0))),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
find_unused_parameters = True
