# Runtime shared by all mmdmtl configs.
default_scope = 'mmseg'
custom_imports = dict(imports=['mmdmtl'], allow_failed_imports=False)
# MTLRunner: checkpoints load with torch's safe unpickler (resume works on
# torch >= 2.6 without trusting arbitrary pickles).
runner_type = 'MTLRunner'
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='MTLLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
# Stop at the first NaN/inf loss, naming the iteration and the task.
custom_hooks = [dict(type='NaNLossDetectionHook')]
