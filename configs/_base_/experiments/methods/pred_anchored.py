# Prediction diffusion whose every step corrects the clean initial
# prediction (refine_mode='anchored'), with the preliminary decoders trained by
# their own loss only (detach_start): the refinement has to earn every change.
method = dict(label='DiffusionMTL (Prediction, anchored)', default=False, order=7)
model = dict(
    decode_head=dict(
        type='DiffusionMTLHead', variant='prediction', refine_mode='anchored',
        detach_start=True))
