# Control of `stagewise`: the same extra iterations (half the runner's --iters)
# spent on fine-tuning the MTL baseline's own fusion and preliminary decoders,
# from the same checkpoint, on the same frozen backbone, with the same schedule.
# A refinement stage is worth its cost only if it beats this.
method = dict(label='MTL baseline + head fine-tuning (control)', default=False,
              order=10, start_from='mtl', iters_scale=0.5)
model = dict(
    backbone=dict(frozen_stages=4, norm_eval=True),
    decode_head=dict(type='MTLBaselineHead'))
