# Prediction diffusion with the paper's direct refinement (each step predicts
# the map itself); not run unless named in --methods.
method = dict(label='DiffusionMTL (Prediction, direct)', default=False, order=6)
model = dict(
    decode_head=dict(
        type='DiffusionMTLHead', refine_mode='direct', variant='prediction'))
