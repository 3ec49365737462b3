# Ablation (Table 3): prediction diffusion without multi-task conditioning.
method = dict(label='Prediction w/o multi-task cond.', default=True, order=4)
model = dict(
    decode_head=dict(
        type='DiffusionMTLHead', variant='prediction',
        use_task_conditioning=False))
