# Ablation "w/o diffusion" of the `stagewise` method: the same modules and
# steps, no noise (plain iterative refinement from the initial prediction).
_base_ = ['./stagewise.py']
method = dict(label='stage-wise w/o diffusion', order=12)
model = dict(decode_head=dict(use_diffusion=False))
