# Stage-wise refinement (docs/en/refinement.md): train only the refinement on
# top of a trained MTL baseline. The backbone, the fusion and the preliminary
# decoders and heads are loaded from the MTL baseline's checkpoint and frozen
# (no gradients, fixed batch-norm statistics); the anchored chain, at stride 4
# and guided by the stride-4 backbone level, learns for 500 iterations. Its
# refined semseg is trained with cross-entropy plus Lovász-softmax (an IoU
# surrogate): with cross-entropy alone the refinement trades rare classes for
# pixel accuracy (docs/en/refinement.md).
# The refinement is worth its cost on a first stage trained to its plateau: on
# an unconverged one, fine-tuning the baseline's own head for the same
# iterations gains more (docs/en/refinement.md, tools/experiments/
# converged_first_stage.sh). Start from your longest-trained MTL baseline.
# First build the MTL baseline (about 5 minutes on 2 CPU cores):
#   python tools/reproduce_checkpoint.py mtl-baseline_r18-lite_1xb8-1k_synthetic-96x128
# or pass your own: --cfg-options load_from=work_dirs/<run>/iter_1000.pth
_base_ = ['./diffusionmtl_r18-lite_1xb8-1k_synthetic-96x128.py']
load_from = ('work_dirs/reproduce/mtl-baseline_r18-lite_1xb8-1k_synthetic-96x128/'
             'mtl-baseline_r18-lite_1xb8-1k_synthetic-96x128.pth')
model = dict(
    backbone=dict(frozen_stages=4, norm_eval=True),
    decode_head=dict(
        refine_mode='anchored',
        freeze_initial=True,
        refine_scale=2.0,
        guide_level=0,
        refine_loss_decode=dict(semseg=[
            dict(type='MTLCrossEntropyLoss'),
            dict(type='MTLLovaszLoss'),
        ])))
train_cfg = dict(max_iters=500, val_interval=250)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, begin=0, end=50, by_epoch=False),
    dict(type='PolyLR', eta_min=1e-6, power=0.9, begin=50, end=500, by_epoch=False),
]
