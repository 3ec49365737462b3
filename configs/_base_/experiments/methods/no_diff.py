# Ablation (Table 3): prediction variant with iterative refinement instead of
# diffusion (no noise).
method = dict(label='Prediction w/o diffusion', default=True, order=5)
model = dict(
    decode_head=dict(
        type='DiffusionMTLHead', variant='prediction', use_diffusion=False))
