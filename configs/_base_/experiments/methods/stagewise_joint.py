# Stage-wise DiffusionMTL on a fine-tuned first stage: the `stagewise` method
# with the baseline's fusion and preliminary decoders trained on as well, as
# the control `mtl_finetune` trains them: by their own loss at full weight
# only (`detach_start` keeps the refined loss out of them). Its initial
# predictions are then the control's, up to the random stream, and its refined
# ones show what the refinement adds on top of the same iterations of head
# fine-tuning.
_base_ = ['./stagewise.py']
method = dict(label='DiffusionMTL (stage-wise on a fine-tuned first stage)', order=14)
model = dict(decode_head=dict(freeze_initial=False, initial_loss_weight=1.0))
