"""An mmseg user's config (mmseg:: bases + custom_imports) builds our modules,
and our configs keep every mmseg backbone/neck buildable."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _batch(h=64, w=64):
    samples = []
    for i in range(2):
        d = SegDataSample()
        d.set_metainfo(dict(task_mask=dict(semseg=True, depth=i == 0, normal=i == 1),
                            img_shape=(h, w), ori_shape=(h, w)))
        d.gt_sem_seg = PixelData(data=torch.randint(0, 13, (1, h, w)))
        d.gt_depth_map = PixelData(data=torch.rand(1, h, w) + 1)
        d.gt_normal_map = PixelData(
            data=torch.nn.functional.normalize(torch.randn(3, h, w), dim=0))
        samples.append(d)
    return dict(inputs=[torch.randint(0, 255, (3, h, w), dtype=torch.uint8)
                        for _ in range(2)], data_samples=samples)


def test_mmseg_user_config_with_custom_imports():
    cfg = Config.fromfile(osp.join(ROOT, 'tests', 'data', 'configs',
                                   'mmseg_user_segformer.py'))
    # custom_imports ran at load time: our modules are registered in mmseg's
    # registries and found by plain names
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    assert MODELS.get('DiffusionMTLHead') is not None
    model = MODELS.build(cfg.model)
    assert type(model.backbone).__name__ == 'MixVisionTransformer'
    data = model.data_preprocessor(_batch(), True)
    losses = model(**data, mode='loss')
    assert {'decode.loss_semseg', 'decode.loss_depth', 'decode.loss_normal'} <= set(losses)
    sum(losses.values()).backward()


@pytest.mark.parametrize('backbone', [
    dict(type='ResNetV1c', depth=18, init_cfg=None),
    dict(type='MixVisionTransformer', in_channels=3, embed_dims=32, num_stages=4,
         num_layers=[1, 1, 1, 1], num_heads=[1, 2, 5, 8], patch_sizes=[7, 3, 3, 3],
         sr_ratios=[8, 4, 2, 1], out_indices=(0, 1, 2, 3), mlp_ratio=4, init_cfg=None),
    dict(type='SwinTransformer', embed_dims=32, depths=[1, 1, 1, 1], num_heads=[1, 2, 4, 8],
         window_size=4, out_indices=(0, 1, 2, 3), init_cfg=None),
    dict(type='HRNet', extra=dict(
        stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK', num_blocks=(1, ),
                    num_channels=(16, )),
        stage2=dict(num_modules=1, num_branches=2, block='BASIC', num_blocks=(1, 1),
                    num_channels=(8, 16)),
        stage3=dict(num_modules=1, num_branches=3, block='BASIC', num_blocks=(1, 1, 1),
                    num_channels=(8, 16, 32)),
        stage4=dict(num_modules=1, num_branches=4, block='BASIC', num_blocks=(1, 1, 1, 1),
                    num_channels=(8, 16, 32, 64))), init_cfg=None),
    dict(type='VisionTransformer', img_size=(64, 64), patch_size=16, embed_dims=64,
         num_layers=4, num_heads=2, out_indices=(0, 1, 2, 3), init_cfg=None),
], ids=['ResNetV1c-18', 'MiT', 'Swin', 'HRNet', 'ViT'])
def test_any_mmseg_backbone_swaps_in_by_config(backbone):
    """Our quick-start config with the backbone swapped by config only."""
    import mmdmtl  # noqa: F401
    from mmdmtl.registry import MODELS
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'diffusionmtl',
                                   'diffusionmtl_r18-lite_1xb8-1k_synthetic-96x128.py'))
    init_default_scope('mmseg')
    backbone_module = MODELS.build(backbone)
    with torch.no_grad():
        feats = backbone_module(torch.rand(1, 3, 64, 64))
    in_channels = [f.shape[1] for f in feats]
    cfg.model.backbone = backbone
    cfg.model.data_preprocessor.size = None
    cfg.model.data_preprocessor.size_divisor = 32
    cfg.model.decode_head.in_channels = in_channels
    cfg.model.decode_head.tasks = dict(semseg=13, depth=1, normal=3)
    cfg.model.decode_head.loss_decode.pop('edge')
    model = MODELS.build(cfg.model)
    data = model.data_preprocessor(_batch(), True)
    losses = model(**data, mode='loss')
    assert torch.isfinite(sum(losses.values()))
