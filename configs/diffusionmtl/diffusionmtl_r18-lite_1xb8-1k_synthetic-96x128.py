# Quick start: DiffusionMTL (prediction diffusion, T=2) with ResNet-18 and the
# 'lite' head on the embedded synthetic indoor dataset (96x128; semseg 10
# classes, depth, normals, edges). Rendered into data/synthetic_indoor on
# first use. 1000 iterations: about 4 minutes on 2 idle CPU cores. Partial labels:
#   --cfg-options train_dataloader.dataset.split_mode=onelabel
# Recommended refinement: residual (each step corrects its input, zero-init
# correction; docs/en/refinement.md). The paper's direct form:
#   --cfg-options model.decode_head.refine_mode=direct
_base_ = [
    '../_base_/models/diffusionmtl_r18.py',
    '../_base_/recipes/synthetic_indoor_1k.py',
]
model = dict(
    data_preprocessor=dict(size_divisor=None, size=(96, 128)),
    decode_head=dict(
        preset='lite',
        variant='prediction',
        refine_mode='residual',
        # positive metres whatever the weights (the paper bases use the
        # official raw linear output; docs/en/official_comparison.md)
        depth_activation='softplus',
        tasks=dict(semseg=10, depth=1, normal=3, edge=1),
        loss_decode=dict(
            edge=dict(type='BalancedBCELoss', pos_weight=0.95,
                      loss_weight=50.0))))
