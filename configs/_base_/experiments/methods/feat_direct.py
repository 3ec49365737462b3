# Feature diffusion with the paper's direct refinement; not run unless named
# in --methods.
method = dict(label='DiffusionMTL (Feature, direct)', default=False, order=7)
model = dict(
    decode_head=dict(
        type='DiffusionMTLHead', refine_mode='direct', variant='feature'))
