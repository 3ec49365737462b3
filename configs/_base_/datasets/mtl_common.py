# Shared by every multi-task dataset config: loaders, samplers, the test
# pipeline and the train pipeline but its geometric augmentation. A dataset
# config inherits this file, adds its dataset type, root and tasks (those
# dicts merge into the ones below) and inserts its own resize and crop after
# the two loading steps:
#   train_pipeline = _base_.train_pipeline[:2] + [
#       dict(type='MTLRandomResize', ...), dict(type='MTLRandomCrop', ...),
#   ] + _base_.train_pipeline[2:]
train_pipeline = [
    dict(type='LoadMultiTaskImage'),
    dict(type='LoadMultiTaskAnnotations'),
    dict(type='MTLRandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackMTLInputs'),
]
test_pipeline = [
    dict(type='LoadMultiTaskImage'),
    dict(type='LoadMultiTaskAnnotations'),
    dict(type='PackMTLInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(subset='train'))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(subset='val', test_mode=True, pipeline=test_pipeline))
test_dataloader = val_dataloader
