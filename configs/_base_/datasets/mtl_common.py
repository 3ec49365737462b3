# Shared by every multi-task dataset config: loaders, samplers and the test
# pipeline. A dataset config inherits this file and adds its dataset type,
# root, tasks and train pipeline; those dicts merge into the ones below.
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
