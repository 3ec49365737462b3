"""The multi-task datasets on tiny fixture folders in each on-disk format."""
import os
import os.path as osp

import numpy as np
import pytest
import torch
from dataset_writers import write_mtan, write_nyud_atrc, write_pascal_mt
from mmengine.dataset import pseudo_collate

from mmdmtl.datasets import (
    CityscapesMTANDataset,
    NYUDv2ATRCDataset,
    NYUDv2MTANDataset,
    PascalContextMTDataset,
    SyntheticIndoorDataset,
    generate_partial_split,
    save_partial_split,
)
from mmdmtl.datasets import synthetic_indoor as synthetic_indoor_module
from mmdmtl.registry import DATASETS

LOAD = [dict(type='LoadMultiTaskImage'), dict(type='LoadMultiTaskAnnotations'),
        dict(type='PackMTLInputs')]


def test_nyud_mtan_loads_every_task(tmp_path):
    root = str(tmp_path / 'nyu')
    arrays = write_mtan(root, 'train', n=3)
    ds = DATASETS.build(dict(type='NYUDv2MTANDataset', data_root=root, subset='train',
                             pipeline=LOAD))
    assert len(ds) == 3
    assert ds.metainfo['classes'][0] == 'bed' and len(ds.metainfo['classes']) == 13
    assert ds.metainfo['task_channels']['semseg'] == 13
    assert ds.metainfo['tasks'] == ('semseg', 'depth', 'normal', 'edge')
    # default tasks include edge, which this fixture lacks: select a subset
    ds = NYUDv2MTANDataset(data_root=root, tasks=['semseg', 'depth', 'normal'], pipeline=LOAD)
    assert ds.metainfo['tasks'] == ('semseg', 'depth', 'normal')
    info = ds.get_data_info(1)
    assert info['img_path'].endswith(osp.join('train', 'image', '1.npy'))
    assert info['depth_map_path'].endswith(osp.join('train', 'depth', '1.npy'))
    assert info['task_mask'] == dict(semseg=True, depth=True, normal=True)
    out = ds[1]
    img = out['inputs']
    assert img.dtype == torch.uint8 and img.shape == (3, 12, 16)
    # float RGB [0, 1] -> uint8 BGR
    expected = np.round(arrays['image'][1] * 255)[..., ::-1].transpose(2, 0, 1)
    assert np.array_equal(img.numpy(), expected.astype(np.uint8))
    ds_ = out['data_samples']
    sem = ds_.gt_sem_seg.data
    assert sem.dtype == torch.int64 and sem.shape == (1, 12, 16)
    assert (sem[0, 0, :3] == 255).all()  # -1 -> 255
    assert np.array_equal(sem[0, 1:].numpy(), arrays['label'][1][1:].astype(np.int64))
    depth = ds_.gt_depth_map.data
    assert depth.dtype == torch.float32 and depth.shape == (1, 12, 16)
    assert depth[0, 2, 0] == 0 and depth[0, 1, 0] == 0  # NaN and 0 -> invalid
    assert torch.isfinite(depth).all()
    normal = ds_.gt_normal_map.data
    assert normal.shape == (3, 12, 16)
    assert (normal[:, 3, :4] == 0).all()
    assert torch.allclose(normal[:, 5, 5], torch.from_numpy(arrays['normal'][1][5, 5]),
                          atol=1e-5)
    assert ds_.task_mask == dict(semseg=True, depth=True, normal=True)
    assert ds_.sample_idx == 1


def test_nyud_mtan_published_onelabel_split(tmp_path, published_split):
    root = str(tmp_path / 'nyu795')
    # 795 tiny images so that the published file matches row by row
    rng = np.random.default_rng(0)
    for sub in ('image', 'label', 'depth', 'normal'):
        os.makedirs(osp.join(root, 'train', sub))
    for i in range(795):
        np.save(osp.join(root, 'train', 'image', f'{i}.npy'),
                rng.random((2, 3, 3)).astype(np.float32))
    split = published_split('nyuv2_onelabel.pth')
    ds = NYUDv2MTANDataset(data_root=root, tasks=['semseg', 'depth', 'normal'],
                           split_file=split, lazy_init=False)
    mask = ds.task_mask_array()
    assert mask.shape == (795, 3)
    assert mask.sum(0).tolist() == [265, 265, 265]
    assert ds.get_data_info(0)['task_mask'] == dict(semseg=True, depth=False, normal=False)
    rnd = NYUDv2MTANDataset(data_root=root, tasks=['semseg', 'depth', 'normal'],
                            split_file=published_split('nyuv2_randomlabels.pth'))
    assert rnd.task_mask_array().sum(0).tolist() == [392, 408, 385]
    # a task subset keeps the columns; skip_unlabeled drops images with no label
    sub = NYUDv2MTANDataset(data_root=root, tasks=['depth'], split_file=split,
                            skip_unlabeled=True)
    assert len(sub) == 265
    # test mode ignores the split: validation uses every task
    val = NYUDv2MTANDataset(data_root=root, tasks=['semseg', 'depth', 'normal'],
                            split_file=split, test_mode=True)
    assert val.task_mask_array().all()
    # a split whose length does not match the dataset
    os.remove(osp.join(root, 'train', 'image', '794.npy'))
    with pytest.raises(ValueError, match=r'nyuv2_onelabel\.pth has 795 rows but the '
                       r'dataset has 794'):
        NYUDv2MTANDataset(data_root=root, tasks=['semseg', 'depth', 'normal'],
                          split_file=split)


def test_partial_mask_reaches_sample_with_invalid_targets(tmp_path):
    root = str(tmp_path / 'nyu')
    write_mtan(root, 'train', n=3)
    split = generate_partial_split(3, ['semseg', 'depth', 'normal'], 'onelabel', seed=0)
    path = save_partial_split(split, str(tmp_path / 'split.json'))
    ds = NYUDv2MTANDataset(data_root=root, tasks=['semseg', 'depth', 'normal'],
                           split_file=path, pipeline=LOAD)
    for i in range(3):
        # delete the files of unlabelled tasks: they must not be read
        info = ds.get_data_info(i)
        for t, labelled in info['task_mask'].items():
            key = dict(semseg='seg_map_path', depth='depth_map_path',
                       normal='normal_map_path')[t]
            if not labelled:
                os.remove(info[key])
        sample = ds[i]['data_samples']
        assert sample.task_mask == info['task_mask']
        for t, labelled in info['task_mask'].items():
            data = getattr(sample, dict(semseg='gt_sem_seg', depth='gt_depth_map',
                                        normal='gt_normal_map')[t]).data
            invalid = {'semseg': 255, 'depth': 0, 'normal': 0}[t]
            assert (data == invalid).all() != labelled
    # relative split paths resolve against data_root
    os.rename(path, osp.join(root, 'split.json'))
    ds2 = NYUDv2MTANDataset(data_root=root, tasks=['semseg', 'depth', 'normal'],
                            split_file='split.json')
    assert np.array_equal(ds2.task_mask_array(), split.mask)


def test_cityscapes_mtan(tmp_path):
    root = str(tmp_path / 'cs')
    arrays = write_mtan(root, 'val', n=2, h=8, w=16, num_classes=7, label_dir='label_7',
                        with_normal=False)
    ds = CityscapesMTANDataset(data_root=root, subset='val', test_mode=True, pipeline=LOAD)
    assert ds.metainfo['classes'] == ('flat', 'construction', 'object', 'nature', 'sky',
                                      'human', 'vehicle')
    sample = ds[0]['data_samples']
    assert set(sample.task_mask) == {'semseg', 'depth'}
    assert sample.gt_sem_seg.shape == (8, 16)
    assert 'gt_normal_map' not in sample
    lab = arrays['label'][0]
    got = sample.gt_sem_seg.data[0].numpy()
    assert np.array_equal(got[lab >= 0], lab[lab >= 0].astype(np.int64))
    assert (got[lab < 0] == 255).all()


def test_nyud_atrc(tmp_path):
    root = str(tmp_path / 'atrc')
    arrays = write_nyud_atrc(root, ['0003', '0001'], 'train')
    ds = NYUDv2ATRCDataset(data_root=root, subset='train', pipeline=LOAD)
    assert len(ds) == 2 and len(ds.metainfo['classes']) == 40
    assert ds.get_data_info(0)['img_id'] == '0003'  # gt_sets order
    sample = ds[0]['data_samples']
    a = arrays['0003']
    seg = sample.gt_sem_seg.data[0].numpy()
    assert seg[0, 0] == 255 and seg[0, 1] == 0  # void -> 255, label - 1
    assert np.array_equal(seg[a['seg'] > 0], a['seg'][a['seg'] > 0].astype(np.int64) - 1)
    assert np.allclose(sample.gt_depth_map.data[0].numpy(), a['depth'])
    normal = sample.gt_normal_map.data.numpy().transpose(1, 2, 0)
    expected = 2 * a['normal_png'].astype(np.float32) / 255 - 1
    expected /= np.linalg.norm(expected, axis=-1, keepdims=True)
    assert np.allclose(normal, expected, atol=1e-5)  # RGB = xyz, unit length
    edge = sample.gt_edge_map.data[0].numpy()
    assert np.array_equal(edge, (a['edge'] > 127).astype(np.int64))
    img = ds[0]['inputs'].numpy().transpose(1, 2, 0)
    assert np.array_equal(img[..., ::-1], a['img'])  # BGR in the pipeline


def test_pascal_context_mt(tmp_path):
    root = str(tmp_path / 'PASCAL_MT')
    ids = ['2008_000001', '2008_000002']
    arrays = write_pascal_mt(root, ids, 'train')
    ds = PascalContextMTDataset(data_root=root, subset='train', pipeline=LOAD)
    assert ds.metainfo['parts_classes'][1] == 'head'
    assert ds.metainfo['task_channels'] == dict(semseg=21, parts=7, sal=1, normal=3, edge=1)
    assert 'VOC12' in ds.get_data_info(0)['seg_map_path']
    assert 'pascal-context' in ds.get_data_info(1)['seg_map_path']
    s0, s1 = ds[0]['data_samples'], ds[1]['data_samples']
    a0 = arrays[ids[0]]
    assert np.array_equal(s0.gt_sem_seg.data[0].numpy(), a0['seg'].astype(np.int64))
    assert np.array_equal(s0.gt_parts_map.data[0].numpy(), a0['parts'].astype(np.int64))
    assert s0.task_mask['parts'] is True
    # no annotated person: all-ignore parts and the task becomes unlabelled
    assert (s1.gt_parts_map.data == 255).all() and s1.task_mask['parts'] is False
    assert np.array_equal(s0.gt_sal_map.data[0].numpy(),
                          (a0['sal'] / 255.0 > 0.5).astype(np.int64))
    edge = s0.gt_edge_map.data[0].numpy()
    w = edge.shape[1]
    # label-map boundary between columns w/2-1 and w/2, thinned to one pixel
    assert edge[:, : w // 2 - 1].sum() == 0 and edge[:, w // 2 + 1:].sum() == 0
    per_row = edge[:, w // 2 - 1:w // 2 + 1].sum(1)
    assert (per_row <= 1).all() and (per_row[1:-1] == 1).all()
    # precomputed edge PNGs
    ds_png = PascalContextMTDataset(data_root=root, edge_source='png', tasks=['edge'],
                                    pipeline=LOAD)
    e = ds_png[0]['data_samples'].gt_edge_map.data[0].numpy()
    assert e[:, w // 2].all() and e.sum() == e.shape[0]
    # normals restricted to chosen LabelMap classes (class 7 = left half)
    ds_n = PascalContextMTDataset(data_root=root, tasks=['normal'], normal_valid_classes=[7],
                                  pipeline=LOAD)
    n = ds_n[0]['data_samples'].gt_normal_map.data.numpy()
    assert (n[:, :, w // 2:] == 0).all()
    assert np.allclose(np.linalg.norm(n[:, :, :w // 2], axis=0), 1, atol=1e-5)


def test_pascal_published_split_by_image_id(tmp_path):
    root = str(tmp_path / 'PASCAL_MT')
    write_pascal_mt(root, ['b', 'a', 'c'], 'train')
    path = str(tmp_path / 'onelabel.npy')
    np.save(path, np.array({'human_parts': ['a'], 'edge': ['c'], 'semseg': ['b'],
                            'normals': [], 'sal': []}, dtype=object))
    # sal and normal are labelled on no image: refused for a model that trains them
    with pytest.raises(ValueError, match=r"labels no training image for task\(s\) "
                       r"\['sal', 'normal'\]"):
        PascalContextMTDataset(data_root=root, split_file=path)
    ds = PascalContextMTDataset(data_root=root, split_file=path,
                                tasks=['semseg', 'parts', 'edge'])
    m = {ds.get_data_info(i)['img_id']: ds.get_data_info(i)['task_mask'] for i in range(3)}
    assert m['a'] == dict(semseg=False, parts=True, edge=False)
    assert m['b']['semseg'] and m['c']['edge'] and sum(m['c'].values()) == 1


def test_synthetic_indoor_with_patched_renderer(tmp_path, monkeypatch):
    calls = []

    def fake_ensure(data_root, **kwargs):
        calls.append(kwargs)
        if not osp.isdir(osp.join(data_root, 'train')):
            write_mtan(data_root, 'train', n=6, h=8, w=8, with_edge=True)
            write_mtan(data_root, 'val', n=2, h=8, w=8, with_edge=True)
        return data_root

    monkeypatch.setattr(synthetic_indoor_module, 'ensure_synthetic_dataset', fake_ensure)
    # before mmdmtl.datasets.synthetic exists the classes must come from metainfo
    meta = None if synthetic_indoor_module.SYNTHETIC_CLASSES is not None else dict(
        classes=tuple(f'c{i}' for i in range(13)), palette=[[i, i, i] for i in range(13)])
    root = str(tmp_path / 'syn')
    ds = SyntheticIndoorDataset(data_root=root, num_train=6, num_val=2, height=8, width=8,
                                split_mode='onelabel', metainfo=meta, pipeline=LOAD)
    assert calls[0] == dict(num_train=6, num_val=2, height=8, width=8, seed=0)
    assert len(ds) == 6
    masks = ds.task_mask_array()
    assert (masks.sum(1) == 1).all()
    assert masks.sum(0).tolist() == [2, 2, 1, 1] or sorted(masks.sum(0).tolist()) == [1, 1, 2, 2]
    cached = os.listdir(osp.join(root, 'splits'))
    assert len(cached) == 1 and cached[0].startswith('onelabel_seed0_n6')
    sample = ds[0]['data_samples']
    assert set(sample.task_mask) == {'semseg', 'depth', 'normal', 'edge'}
    # the cached split is reused
    ds2 = SyntheticIndoorDataset(data_root=root, num_train=6, num_val=2, height=8, width=8,
                                 split_mode='onelabel', metainfo=meta)
    assert np.array_equal(ds2.task_mask_array(), masks)
    val = SyntheticIndoorDataset(data_root=root, subset='val', test_mode=True,
                                 split_mode='onelabel', metainfo=meta, pipeline=LOAD)
    assert len(val) == 2 and val.task_mask_array().all()
    batch = pseudo_collate([val[0], val[1]])
    assert len(batch['inputs']) == 2


def test_synthetic_indoor_with_real_renderer(tmp_path):
    pytest.importorskip('mmdmtl.datasets.synthetic',
                        reason='the synthetic renderer module is not available')
    root = str(tmp_path / 'syn')
    ds = SyntheticIndoorDataset(data_root=root, num_train=4, num_val=2, height=24, width=32,
                                split_mode='randomlabels', pipeline=LOAD)
    assert len(ds) == 4 and ds.metainfo['classes'][0] == 'floor'
    assert ds.metainfo['task_channels']['semseg'] == len(ds.metainfo['classes'])
    assert (ds.task_mask_array().sum(1) >= 1).all()
    sample = ds[0]['data_samples']
    assert sample.gt_normal_map.data.shape == (3, 24, 32)
    assert sample.gt_edge_map.data.shape == (1, 24, 32)
