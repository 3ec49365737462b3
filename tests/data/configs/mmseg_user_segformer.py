# How an existing mmseg user adopts mmdmtl: start from mmseg's own SegFormer
# model and runtime configs, add one custom_imports line, swap in our
# segmentor, data preprocessor and multi-task head.
_base_ = [
    'mmseg::_base_/models/segformer_mit-b0.py',
    'mmseg::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mmdmtl'], allow_failed_imports=False)
model = dict(
    type='MultiTaskEncoderDecoder',
    data_preprocessor=dict(type='MTLDataPreProcessor', size=None, size_divisor=32),
    backbone=dict(init_cfg=None),
    decode_head=dict(
        _delete_=True,
        type='DiffusionMTLHead',
        in_channels=[32, 64, 160, 256],
        tasks=dict(semseg=13, depth=1, normal=3),
        preset='lite',
        variant='prediction'))
