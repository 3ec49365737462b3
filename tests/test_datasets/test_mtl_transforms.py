"""Round trips of every multi-task transform on known arrays."""
import numpy as np
import pytest
import torch
from mmcv.transforms import Compose

from mmdmtl.datasets.transforms import (
    MTLPad,
    MTLRandomCrop,
    MTLRandomFlip,
    MTLRandomResize,
    MTLResize,
    PackMTLInputs,
    label_map_to_edges,
    make_invalid_target,
    thin,
)
from mmdmtl.registry import TRANSFORMS

KEYS = ['gt_seg_map', 'gt_depth_map', 'gt_normal_map', 'gt_edge_map']


def make_results(h=6, w=8, seed=0):
    rng = np.random.default_rng(seed)
    normal = rng.normal(size=(h, w, 3)).astype(np.float32)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    normal[0, 0] = 0
    return dict(
        img=rng.integers(0, 256, (h, w, 3), dtype=np.uint8),
        gt_seg_map=rng.integers(0, 13, (h, w)).astype(np.uint8),
        gt_depth_map=rng.uniform(0.5, 9, (h, w)).astype(np.float32),
        gt_normal_map=normal,
        gt_edge_map=(rng.random((h, w)) > 0.7).astype(np.uint8),
        seg_fields=list(KEYS),
        img_shape=(h, w), ori_shape=(h, w),
        tasks=['semseg', 'depth', 'normal', 'edge'],
        task_mask=dict(semseg=True, depth=True, normal=False, edge=True))


def copy_results(r):
    return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in r.items()}


def test_flip_twice_is_identity_and_negates_normal_x():
    src = make_results()
    flip = MTLRandomFlip(prob=1.0, direction='horizontal')
    once = flip(copy_results(src))
    assert np.array_equal(once['img'], src['img'][:, ::-1])
    assert np.array_equal(once['gt_seg_map'], src['gt_seg_map'][:, ::-1])
    assert np.array_equal(once['gt_depth_map'], src['gt_depth_map'][:, ::-1])
    n = src['gt_normal_map'][:, ::-1]
    assert np.allclose(once['gt_normal_map'][..., 0], -n[..., 0])
    assert np.allclose(once['gt_normal_map'][..., 1:], n[..., 1:])
    assert (once['gt_normal_map'][0, -1] == 0).all()  # invalid stays zero
    twice = flip(copy_results(once))
    for k in ['img'] + KEYS:
        assert np.array_equal(twice[k], src[k]), k
    assert once['flip'] and once['flip_direction'] == 'horizontal'


def test_vertical_flip_negates_normal_y():
    src = make_results()
    out = MTLRandomFlip(prob=1.0, direction='vertical')(copy_results(src))
    n = src['gt_normal_map'][::-1]
    assert np.allclose(out['gt_normal_map'][..., 1], -n[..., 1])
    assert np.allclose(out['gt_normal_map'][..., [0, 2]], n[..., [0, 2]])


def test_no_flip_with_prob_zero():
    src = make_results()
    out = MTLRandomFlip(prob=0.0)(copy_results(src))
    for k in ['img'] + KEYS:
        assert np.array_equal(out[k], src[k])


def test_resize_keeps_depth_values_and_unit_normals():
    src = make_results(6, 8)
    out = MTLResize(scale=(16, 12), keep_ratio=False)(copy_results(src))
    assert out['img'].shape == (12, 16, 3)
    for k in KEYS:
        assert out[k].shape[:2] == (12, 16), k
    # nearest: every output value is an input value; depth is never rescaled
    assert set(np.unique(out['gt_depth_map'])) <= set(np.unique(src['gt_depth_map']))
    assert np.array_equal(out['gt_depth_map'][::2, ::2], src['gt_depth_map'])
    assert set(np.unique(out['gt_seg_map'])) <= set(np.unique(src['gt_seg_map']))
    norms = np.linalg.norm(out['gt_normal_map'], axis=-1)
    assert np.allclose(norms[norms > 0], 1, atol=1e-5)
    assert (out['gt_normal_map'][:2, :2] == 0).all()


def test_bilinear_normals_are_renormalised_and_keep_invalid():
    src = make_results(6, 8)
    out = MTLResize(scale=(13, 9), keep_ratio=False,
                    normal_interpolation='bilinear')(copy_results(src))
    n = out['gt_normal_map']
    norms = np.linalg.norm(n, axis=-1)
    assert n.shape == (9, 13, 3)
    assert np.allclose(norms[norms > 0], 1, atol=1e-5)
    assert norms[0, 0] == 0


def test_random_resize_ratio_range():
    src = make_results(10, 20)
    t = MTLRandomResize(scale=(20, 10), ratio_range=(2.0, 2.0), keep_ratio=True)
    out = t(copy_results(src))
    assert out['img'].shape[:2] == (20, 40) and out['gt_depth_map'].shape == (20, 40)
    assert out['gt_depth_map'].max() == pytest.approx(src['gt_depth_map'].max())
    built = TRANSFORMS.build(dict(type='MTLRandomResize', scale=(20, 10),
                                  ratio_range=(0.5, 0.5), keep_ratio=True))
    assert built(copy_results(src))['gt_normal_map'].shape == (5, 10, 3)


def test_crop_geometry_is_consistent():
    src = make_results(10, 12)
    # encode positions so that the crop offset can be recovered from any map
    yy, xx = np.mgrid[:10, :12]
    src['gt_depth_map'] = (yy * 100 + xx + 1).astype(np.float32)
    src['gt_seg_map'] = (yy * 12 + xx).astype(np.uint8)
    src['img'] = np.stack([yy, xx, yy * 0], -1).astype(np.uint8)
    out = MTLRandomCrop(crop_size=(4, 5))(copy_results(src))
    y0, x0 = int(out['img'][0, 0, 0]), int(out['img'][0, 0, 1])
    assert out['img'].shape == (4, 5, 3) and out['img_shape'] == (4, 5)
    assert np.array_equal(out['gt_depth_map'], src['gt_depth_map'][y0:y0 + 4, x0:x0 + 5])
    assert np.array_equal(out['gt_seg_map'], src['gt_seg_map'][y0:y0 + 4, x0:x0 + 5])
    assert np.array_equal(out['gt_normal_map'], src['gt_normal_map'][y0:y0 + 4, x0:x0 + 5])
    assert np.array_equal(out['gt_edge_map'], src['gt_edge_map'][y0:y0 + 4, x0:x0 + 5])


def test_crop_cat_max_ratio_with_unlabelled_semseg():
    src = make_results(10, 12)
    src['gt_seg_map'][:] = 255
    src['task_mask']['semseg'] = False
    t = MTLRandomCrop(crop_size=(4, 4), cat_max_ratio=0.75)
    out = t(copy_results(src))
    assert out['img'].shape == (4, 4, 3)
    del src['gt_seg_map']
    src['seg_fields'] = [k for k in KEYS if k != 'gt_seg_map']
    assert t(copy_results(src))['gt_depth_map'].shape == (4, 4)


def test_pad_uses_each_task_invalid_value():
    src = make_results(5, 7)
    src['seg_fields'].append('gt_other')
    src['gt_other'] = np.zeros((5, 7), np.uint8)
    out = MTLPad(size=(8, 9), pad_val=7)(copy_results(src))
    assert out['img'].shape == (8, 9, 3) and out['pad_shape'] == (8, 9)
    assert (out['img'][5:] == 7).all() and (out['img'][:, 7:] == 7).all()
    assert np.array_equal(out['img'][:5, :7], src['img'])
    assert (out['gt_seg_map'][5:] == 255).all() and (out['gt_seg_map'][:, 7:] == 255).all()
    assert (out['gt_edge_map'][5:] == 255).all()
    assert (out['gt_depth_map'][5:] == 0).all() and (out['gt_depth_map'][:, 7:] == 0).all()
    assert (out['gt_normal_map'][5:] == 0).all() and out['gt_normal_map'].shape == (8, 9, 3)
    assert (out['gt_other'][5:] == 255).all()
    for k in KEYS:
        assert np.array_equal(out[k][:5, :7], src[k])
    div = MTLPad(size_divisor=4)(copy_results(src))
    assert div['img'].shape[:2] == (8, 8) and div['gt_depth_map'].shape == (8, 8)
    with pytest.raises(ValueError):
        MTLPad()


def test_photometric_distortion_touches_image_only():
    src = make_results(8, 8)
    out = TRANSFORMS.build(dict(type='PhotoMetricDistortion'))(copy_results(src))
    for k in KEYS:
        assert np.array_equal(out[k], src[k])


def test_invalid_targets():
    assert (make_invalid_target('semseg', (3, 4)) == 255).all()
    assert make_invalid_target('semseg', (3, 4)).dtype == np.uint8
    assert (make_invalid_target('depth', (3, 4)) == 0).all()
    assert make_invalid_target('normal', (3, 4)).shape == (3, 4, 3)
    with pytest.raises(KeyError, match='bogus'):
        make_invalid_target('bogus', (3, 4))


def test_pack_follows_field_contract():
    src = make_results(6, 8)
    src['gt_parts_map'] = np.zeros((6, 8), np.uint8)
    src['gt_sal_map'] = np.ones((6, 8), np.uint8)
    src['img_path'] = 'x.png'
    out = PackMTLInputs()(copy_results(src))
    s = out['data_samples']
    assert out['inputs'].shape == (3, 6, 8)
    assert s.gt_sem_seg.data.shape == (1, 6, 8) and s.gt_sem_seg.data.dtype == torch.int64
    assert s.gt_depth_map.data.shape == (1, 6, 8)
    assert s.gt_depth_map.data.dtype == torch.float32
    assert s.gt_normal_map.data.shape == (3, 6, 8)
    assert np.allclose(s.gt_normal_map.data.numpy().transpose(1, 2, 0), src['gt_normal_map'])
    assert s.gt_edge_map.data.shape == (1, 6, 8) and s.gt_edge_map.data.dtype == torch.int64
    assert s.gt_parts_map.data.shape == (1, 6, 8) and s.gt_sal_map.data.sum() == 48
    # packed targets missing from the pipeline's mask count as labelled
    assert s.task_mask == dict(semseg=True, depth=True, normal=False, edge=True, parts=True,
                               sal=True)
    assert s.img_path == 'x.png'


def test_full_train_pipeline_fixed_shape():
    pipeline = Compose([
        TRANSFORMS.build(c) for c in [
            dict(type='MTLRandomResize', scale=(8, 6), ratio_range=(0.75, 1.25),
                 keep_ratio=True),
            dict(type='MTLRandomCrop', crop_size=(6, 8)),
            dict(type='MTLRandomFlip', prob=0.5),
            dict(type='PhotoMetricDistortion'),
            dict(type='MTLPad', size=(6, 8)),
            dict(type='PackMTLInputs'),
        ]
    ])
    for seed in range(5):
        np.random.seed(seed)
        out = pipeline(make_results(6, 8, seed))
        s = out['data_samples']
        assert out['inputs'].shape == (3, 6, 8)
        assert s.gt_normal_map.data.shape == (3, 6, 8)
        d = s.gt_depth_map.data
        assert (d == 0).sum() + (d > 0.49).sum() == d.numel()  # no 255 padding in depth


def test_thinning_and_label_map_edges():
    block = np.zeros((9, 9), bool)
    block[2:7, 1:8] = True
    t = thin(block)
    assert t.sum() > 0 and t.sum() < block.sum()
    assert (t <= block).all()
    # a 3-wide horizontal bar thins to a single row
    bar = np.zeros((7, 12), bool)
    bar[2:5, 1:11] = True
    tb = thin(bar)
    assert tb.sum(0).max() == 1 and tb[3, 3:9].all()
    lm = np.zeros((6, 6), np.uint16)
    lm[:, 3:] = 5
    e = label_map_to_edges(lm)
    assert e.dtype == np.uint8 and set(np.unique(e)) <= {0, 1}
    assert e[:, :2].sum() == 0 and e[:, 4:].sum() == 0


def test_decode_binary_accepts_0_1_and_0_255_integer_maps():
    from mmdmtl.datasets.transforms.annotation_readers import decode_binary
    m01 = np.array([[0, 1], [1, 0]], dtype=np.uint8)
    np.testing.assert_array_equal(decode_binary(m01, 'x.npy'), m01)
    np.testing.assert_array_equal(decode_binary(m01 * 255, 'x.png'), m01)
    np.testing.assert_array_equal(decode_binary(m01.astype(np.float32), 'x.npy'), m01)
