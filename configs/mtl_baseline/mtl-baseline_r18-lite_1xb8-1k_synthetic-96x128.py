# MTL baseline on the embedded synthetic dataset: the quick-start model
# (diffusionmtl_r18-lite_1xb8-1k_synthetic-96x128.py) without its refinement
# stage -- the same backbone, fusion, preliminary decoders, initialisations,
# losses, data and schedule; its outputs are the initial predictions.
_base_ = [
    '../_base_/models/mtl_baseline_r18.py',
    '../_base_/recipes/synthetic_indoor_1k.py',
]
model = dict(
    data_preprocessor=dict(size_divisor=None, size=(96, 128)),
    decode_head=dict(
        preset='lite',
        depth_activation='softplus',
        tasks=dict(semseg=10, depth=1, normal=3, edge=1),
        loss_decode=dict(
            edge=dict(type='BalancedBCELoss', pos_weight=0.95,
                      loss_weight=50.0))))
