# DiffusionMTL, prediction diffusion (keeps the base config's refine_mode;
# residual in the lite quick-start config).
method = dict(label='DiffusionMTL (Prediction)', default=True, order=2)
model = dict(decode_head=dict(type='DiffusionMTLHead', variant='prediction'))
