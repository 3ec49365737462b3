# MTL baseline on the embedded synthetic dataset: the quick-start model
# (diffusionmtl_r18-lite_1xb8-1k_synthetic-96x128.py) without its refinement
# stage -- the same backbone, fusion, preliminary decoders, initialisations,
# losses, data and schedule; its outputs are the initial predictions.
_base_ = ['../diffusionmtl/diffusionmtl_r18-lite_1xb8-1k_synthetic-96x128.py']
model = dict(
    decode_head=dict(
        _delete_=True,
        type='MTLBaselineHead',
        in_channels=[64, 128, 256, 512],
        tasks=dict(semseg=10, depth=1, normal=3, edge=1),
        preset='lite',
        pred_head_init='default',
        fusion_init='default',
        depth_activation='softplus',
        norm_cfg={{_base_.norm_cfg}},
        loss_decode=dict(
            semseg=dict(type='MTLCrossEntropyLoss', loss_weight=1.0),
            depth=dict(type='DepthL1Loss', loss_weight=1.0),
            normal=dict(type='NormalL1Loss', loss_weight=10.0),
            edge=dict(type='BalancedBCELoss', pos_weight=0.95, loss_weight=50.0))))
find_unused_parameters = False
