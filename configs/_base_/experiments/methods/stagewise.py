# Stage-wise DiffusionMTL: the refinement chain of `pred_anchored_guided`
# trained on top of the same seed's trained MTL baseline (its best checkpoint,
# loaded by the runner), for half the runner's --iters. The backbone, fusion
# and preliminary decoders stay frozen (weights and batch-norm statistics), so
# the initial predictions are the baseline's, bit for bit, and only the
# refinement learns. The refined semseg gets cross-entropy + Lovász-softmax
# (an IoU surrogate): cross-entropy alone trades rare classes for pixel
# accuracy (docs/en/refinement.md). Compare with `mtl_finetune`, which spends
# the same iterations on the baseline's own head.
method = dict(label='DiffusionMTL (stage-wise: MTL baseline + refinement)', default=False,
              order=9, start_from='mtl', iters_scale=0.5)
model = dict(
    backbone=dict(frozen_stages=4, norm_eval=True),
    decode_head=dict(
        type='DiffusionMTLHead', variant='prediction', refine_mode='anchored',
        detach_start=True, refine_scale=2.0, guide_level=0, freeze_initial=True,
        refine_loss_decode=dict(
            semseg=[dict(type='MTLCrossEntropyLoss'), dict(type='MTLLovaszLoss')])))
