# Tiny config of the reliability tests: the end-to-end test config with an odd
# number of validation images (5, so that 2 processes get unequal shares),
# deterministic predictions (no test-time diffusion noise) and no validation
# during training. data_root is set by the tests (--cfg-options).
_base_ = ['../../data/configs/tiny_synthetic.py']
_tiny = dict(num_train=16, num_val=5, height=48, width=64, seed=0)
train_dataloader = dict(dataset=_tiny)
val_dataloader = dict(dataset=_tiny)
test_dataloader = dict(dataset=_tiny)
model = dict(decode_head=dict(test_noise='none'))
train_cfg = dict(max_iters=4, val_interval=1000, val_begin=1000)
default_hooks = dict(checkpoint=dict(interval=2, max_keep_ckpts=5, save_best=None))
randomness = dict(seed=0, deterministic=False)
