# DiffusionMTL (feature diffusion, T=2), ResNet-18, PASCAL-Context multi-task
# (semseg 21, human parts 7, saliency, normals, edges), one-label split
# (published MTPSL/DiffusionMTL file, matched by image id). Recipe of the
# official code: batch 6, Adam 2e-5, ~83k iterations (100 epochs), loss
# weights semseg 1 / parts 2 / sal 5 / edge 50 / normals 10.
# Paper (Table 3, one-label, Feature): semseg 57.78, parts 58.98, sal maxF
# 77.82, normal mErr 16.11, boundary odsF 64.50, Δm +3.65%.
_base_ = [
    '../_base_/models/diffusionmtl_r18.py',
    '../_base_/recipes/pascal_context_mt_onelabel_80k.py',
]
tasks = ['semseg', 'parts', 'sal', 'normal', 'edge']
model = dict(
    data_preprocessor=dict(size_divisor=None, size=(512, 512),
                           test_cfg=dict(size=(512, 512))),
    decode_head=dict(
        tasks=dict(_delete_=True, semseg=21, parts=7, sal=1, normal=3, edge=1),
        # official saliency head: 2 channels + softmax + balanced CE
        two_class_tasks=['sal'],
        loss_decode=dict(
            _delete_=True,
            semseg=dict(type='MTLCrossEntropyLoss', loss_weight=1.0),
            parts=dict(type='MTLCrossEntropyLoss', loss_weight=2.0),
            sal=dict(type='BalancedBCELoss', pos_weight=None, loss_weight=5.0),
            normal=dict(type='NormalL1Loss', loss_weight=10.0),
            edge=dict(type='BalancedBCELoss', pos_weight=0.95, loss_weight=50.0))))
