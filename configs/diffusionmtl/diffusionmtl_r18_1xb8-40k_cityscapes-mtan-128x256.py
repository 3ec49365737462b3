# DiffusionMTL (feature diffusion, T=2), ResNet-18, Cityscapes in the MTAN
# format (7 classes + depth, 128x256), one-label split (published MTPSL file,
# 2975 rows). Paper (Table 1, Feature): semseg 75.67, depth absErr 0.0130.
# (The paper's input resolution is not stated; see paper.md §2.1.)
_base_ = [
    '../_base_/models/diffusionmtl_r18.py',
    '../_base_/datasets/cityscapes_mtan.py',
    '../_base_/evaluation/cityscapes_mtan.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_40k_adam.py',
]
tasks = ['semseg', 'depth']
model = dict(
    # training batches are padded to the crop size by the data preprocessor
    data_preprocessor=dict(size={{_base_.crop_size}}),
    decode_head=dict(
        tasks=dict(_delete_=True, semseg=7, depth=1),
        loss_decode=dict(
            _delete_=True,
            semseg=dict(type='MTLCrossEntropyLoss', loss_weight=1.0),
            depth=dict(type='DepthL1Loss', loss_weight=1.0))))
train_dataloader = dict(
    batch_size=8,
    dataset=dict(split_file='cityscapes_onelabel'))
