# MTL baseline: shared backbone and fusion, preliminary decoders only (the
# initial predictions of DiffusionMTL, no refinement stage).
method = dict(label='MTL baseline', default=True, order=1)
model = dict(decode_head=dict(type='MTLBaselineHead'))
