# DiffusionMTL, feature diffusion (keeps the base config's refine_mode).
method = dict(label='DiffusionMTL (Feature)', default=True, order=3)
model = dict(decode_head=dict(type='DiffusionMTLHead', variant='feature'))
