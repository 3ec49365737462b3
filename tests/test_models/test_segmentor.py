"""MultiTaskEncoderDecoder: backbones, modes, post-processing, slide inference."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mtl_model_helpers import (
    ALL_TASKS,
    CHANNELS,
    MIT_B0,
    NYUD_TASKS,
    R18,
    R50,
    build,
    head_cfg,
    make_samples,
    model_cfg,
)

from mmdmtl.structures.tasks import get_task

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
H, W = 32, 48


@pytest.mark.parametrize('name,backbone', [('R18', R18), ('R50', R50), ('MIT_B0', MIT_B0)])
def test_backbones_loss_and_tensor_shapes(name, backbone):
    torch.manual_seed(0)
    model = build(model_cfg(backbone, head_cfg(in_channels=CHANNELS[name])))
    inputs = torch.randn(2, 3, H, W)
    samples = make_samples(2, H, W, list(NYUD_TASKS), labelled=[['semseg'], ['depth', 'normal']])
    model.train()
    losses = model(inputs, samples, mode='loss')
    assert set(losses) == {f'decode.loss_{t}{s}' for t in NYUD_TASKS for s in ('', '_init')}
    assert all(torch.isfinite(v) for v in losses.values())
    model.eval()
    with torch.no_grad():
        out = model(inputs, mode='tensor')
    assert {t: tuple(v.shape) for t, v in out.items()} == {
        t: (2, c, H, W) for t, c in NYUD_TASKS.items()}


def test_predict_writes_all_tasks_at_ori_shape_with_unpad_and_unflip():
    torch.manual_seed(0)
    model = build(model_cfg(head=head_cfg(tasks=ALL_TASKS, test_noise='none'))).eval()
    x = torch.randn(1, 3, H, W)
    ori = (20, 40)

    def predict(flip):
        s = make_samples(1, H, W, list(ALL_TASKS), ori_shape=ori)
        s[0].set_metainfo(dict(flip=flip, flip_direction='horizontal',
                               padding_size=[0, 8, 0, 12]))  # image is 20x40 + padding
        with torch.no_grad():
            return model.predict(x, s)[0]

    plain, flipped = predict(False), predict(True)
    for t, c in ALL_TASKS.items():
        spec = get_task(t)
        pred = getattr(plain, spec.pred_field).data
        assert pred.shape == (1 if spec.kind == 'segmentation' else c, *ori), t
    assert plain.seg_logits.data.shape == (ALL_TASKS['semseg'], *ori)
    assert plain.pred_sem_seg.data.dtype == torch.int64
    for t in ('sal', 'edge'):
        p = getattr(plain, get_task(t).pred_field).data
        assert 0 <= p.min() and p.max() <= 1
    assert (plain.pred_depth_map.data > 0).all()
    torch.testing.assert_close(plain.pred_normal_map.data.norm(dim=0),
                               torch.ones(ori), atol=1e-5, rtol=0)
    # un-flip: mirrored maps, and the normal's x component negated
    torch.testing.assert_close(flipped.pred_depth_map.data, plain.pred_depth_map.data.flip(-1))
    sign = torch.tensor([-1.0, 1.0, 1.0]).view(3, 1, 1)
    torch.testing.assert_close(flipped.pred_normal_map.data,
                               plain.pred_normal_map.data.flip(-1) * sign)
    # un-pad: the crop equals a prediction on the un-padded region only
    full = make_samples(1, H, W, list(ALL_TASKS), ori_shape=(H, W))
    with torch.no_grad():
        whole = model.predict(x, full)[0].pred_depth_map.data
    from mmseg.models.utils import resize
    expected = resize(whole[None, :, :H - 12, :W - 8], size=ori, mode='bilinear')[0]
    torch.testing.assert_close(plain.pred_depth_map.data, expected)


def test_predict_without_data_samples():
    model = build(model_cfg()).eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, H, W), None, mode='predict')
    assert len(out) == 2 and out[0].pred_depth_map.shape == (H, W)


def test_slide_inference_every_task():
    torch.manual_seed(0)
    model = build(model_cfg(head=head_cfg(test_noise='none'),
                            test_cfg=dict(mode='slide', crop_size=(32, 32),
                                          stride=(16, 16)))).eval()
    inputs = torch.randn(2, 3, 32, 64)
    samples = make_samples(2, 32, 64, list(NYUD_TASKS))
    with torch.no_grad():
        out = model.inference(inputs, [s.metainfo for s in samples])
        preds = model.predict(inputs, samples)
    assert {t: tuple(v.shape) for t, v in out.items()} == {
        t: (2, c, 32, 64) for t, c in NYUD_TASKS.items()}
    assert preds[1].pred_normal_map.shape == (32, 64)
    # a window covering the whole image equals whole inference
    model.test_cfg.crop_size, model.test_cfg.stride = (32, 64), (32, 64)
    with torch.no_grad():
        slide = model.inference(inputs, [s.metainfo for s in samples])
        model.test_cfg.mode = 'whole'
        whole = model.inference(inputs, [s.metainfo for s in samples])
    for t in NYUD_TASKS:
        torch.testing.assert_close(slide[t], whole[t])


def test_rejects_auxiliary_head():
    with pytest.raises(ValueError, match='auxiliary_head'):
        build(model_cfg(auxiliary_head=dict(type='FCNHead')))


@pytest.mark.parametrize('path', sorted(glob.glob(osp.join(ROOT, 'configs/_base_/models/*.py'))),
                         ids=osp.basename)
def test_model_configs_build_and_run(path):
    cfg = Config.fromfile(path)
    model = build(cfg.model).eval()
    with torch.no_grad():
        out = model(torch.randn(1, 3, 64, 64), mode='tensor')
    tasks = cfg.model.decode_head.tasks
    assert {t: v.shape[1] for t, v in out.items()} == dict(tasks)
    if 'r18' in osp.basename(path) and cfg.model.decode_head.type == 'DiffusionMTLHead':
        n = sum(p.numel() for p in model.parameters())
        assert 94.0e6 < n < 95.0e6  # official NYUD 3-task ResNet-18 setting: ~94.7M


def test_train_and_val_step_with_mtl_data_preprocessor():
    """The runner path: raw uint8 images + MTLDataPreProcessor + train_step."""
    from mmengine.optim import OptimWrapper
    cfg = Config.fromfile(osp.join(ROOT, 'configs/_base_/models/diffusionmtl_r18.py'))
    cfg.model.decode_head.update(preset='lite', embed_dims=16, head_channels=16)
    model = build(cfg.model)
    samples = make_samples(2, 30, 40, list(NYUD_TASKS), labelled=[['semseg'], ['normal']])
    data = dict(inputs=[torch.randint(0, 255, (3, 30, 40), dtype=torch.uint8)
                        for _ in range(2)], data_samples=samples)
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=1e-3))
    log_vars = model.train_step(data, optim)
    assert 'decode.loss_semseg' in log_vars and 'loss' in log_vars
    assert torch.isfinite(log_vars['loss'])
    val = make_samples(1, 30, 40, list(NYUD_TASKS))
    out = model.val_step(dict(inputs=[torch.zeros(3, 30, 40, dtype=torch.uint8)],
                              data_samples=val))
    assert out[0].pred_sem_seg.shape == (30, 40) and 'pred_normal_map' in out[0]
