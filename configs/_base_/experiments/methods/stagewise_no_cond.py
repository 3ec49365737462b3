# Ablation "w/o multi-task conditioning" of the `stagewise` method: the
# denoiser attends over the noisy maps only, not to the tokens of all tasks'
# initial predictions.
_base_ = ['./stagewise.py']
method = dict(label='stage-wise w/o multi-task cond.', order=13)
model = dict(decode_head=dict(use_task_conditioning=False))
