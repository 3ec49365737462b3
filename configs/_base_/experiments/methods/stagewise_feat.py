# Stage-wise DiffusionMTL, feature variant: the `stagewise` method with the
# chain on the preliminary decoders' features (a correction of the feature,
# mapped by the frozen preliminary 1x1 heads) instead of their predictions.
_base_ = ['./stagewise.py']
method = dict(label='DiffusionMTL (stage-wise, feature variant)', order=11)
model = dict(decode_head=dict(variant='feature'))
