# Single-task baseline: MTLBaselineHead trained on ONE task. The experiment
# runner trains one such model per task (on the images labelled for that task
# in the multi-task label setting); they are the reference of Δm.
method = dict(label='Single-task', single_task=True, default=True, order=0)
model = dict(decode_head=dict(type='MTLBaselineHead'))
