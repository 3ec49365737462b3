# pred_anchored plus a chain at twice the fused resolution (stride 4) guided by
# the stride-4 backbone level: detail that the stride-8 preliminary decoders
# have lost.
method = dict(label='DiffusionMTL (Prediction, anchored, guided)', default=False, order=8)
model = dict(
    decode_head=dict(
        type='DiffusionMTLHead', variant='prediction', refine_mode='anchored',
        detach_start=True, refine_scale=2.0, guide_level=0))
