"""Bad-input battery: each case gives its exact error (naming the file and
sample index for data), or is masked where the issue says so."""
import math
import os
import os.path as osp
import shutil

import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate
from reliability_utils import build_runner, tiny_cfg

from mmdmtl.datasets import NYUDv2MTANDataset
from mmdmtl.datasets.transforms import AnnotationReadError, LoadMultiTaskImage
from mmdmtl.engine.consistency import (
    TaskConfigMismatchError,
    check_head_matches_metainfo,
    head_tasks,
)
from mmdmtl.registry import DATASETS, MODELS

TASKS = ['semseg', 'depth', 'normal', 'edge']
LOAD = [dict(type='LoadMultiTaskImage'), dict(type='LoadMultiTaskAnnotations'),
        dict(type='PackMTLInputs')]


@pytest.fixture
def root(synthetic_root, tmp_path):
    """A private copy of the tiny synthetic data (MTAN layout) to break."""
    dst = str(tmp_path / 'data')
    shutil.copytree(synthetic_root, dst)
    return dst


def _ds(root, **kw):
    return NYUDv2MTANDataset(data_root=root, tasks=TASKS, pipeline=LOAD, **kw)


def _f(root, folder, i):
    return osp.join(root, 'train', folder, f'{i}.npy')


def test_missing_image_names_file_and_index(root):
    ds = _ds(root)
    os.remove(_f(root, 'image', 3))  # disappears during a run
    with pytest.raises(AnnotationReadError,
                       match=r'cannot read image file .*image/3\.npy \(sample index 3\): '
                       r'FileNotFoundError'):
        ds[3]


@pytest.mark.parametrize('suffix,data', [('.png', b'\x89PNG\r\n\x1a\n' + b'\x07' * 40),
                                         ('.jpg', b'\xff\xd8\xff' + b'\x00' * 40),
                                         ('.npy', b'not a numpy file')])
def test_corrupt_image_bytes(tmp_path, suffix, data):
    path = str(tmp_path / f'broken{suffix}')
    with open(path, 'wb') as f:
        f.write(data)
    with pytest.raises(AnnotationReadError,
                       match=rf'cannot decode image file .*broken\{suffix} \(sample index 5\)'):
        LoadMultiTaskImage()(dict(img_path=path, sample_idx=5))


def test_empty_files(root, tmp_path):
    ds = _ds(root)
    open(_f(root, 'image', 1), 'wb').close()
    open(_f(root, 'depth', 2), 'wb').close()
    with pytest.raises(AnnotationReadError,
                       match=r'cannot decode image file .*image/1\.npy \(sample index 1\): '
                       r'EOFError'):
        ds[1]
    with pytest.raises(AnnotationReadError,
                       match=r'cannot decode depth ground-truth file .*depth/2\.npy '
                       r'\(sample index 2\)'):
        ds[2]
    png = str(tmp_path / 'empty.png')
    open(png, 'wb').close()
    with pytest.raises(AnnotationReadError, match=r'cannot decode image file .*empty\.png'):
        LoadMultiTaskImage()(dict(img_path=png, sample_idx=0))


def test_target_of_wrong_shape(root):
    ds = _ds(root)
    np.save(_f(root, 'depth', 4), np.ones((40, 64), np.float32))
    np.save(_f(root, 'normal', 5), np.ones((48, 64), np.float32))
    with pytest.raises(ValueError, match=r'depth ground-truth file .*depth/4\.npy has shape '
                       r'\(40, 64\) but its image .*image/4\.npy has \(48, 64\) '
                       r'\(sample index 4\)'):
        ds[4]
    with pytest.raises(AnnotationReadError,
                       match=r'normal ground-truth file .*normal/5\.npy \(sample index 5\): '
                       r'.*expected an \(H, W, 3\) normal map, got shape \(48, 64\)'):
        ds[5]


@pytest.mark.parametrize('folder,array,what', [
    ('label', np.full((48, 64), 'a'), r'label map must hold bool / unsigned int / int / float '
     r'values, got dtype <U1'),
    ('depth', np.ones((48, 64), np.complex64), r'depth map must hold unsigned int / int / '
     r'float values, got dtype complex64'),
    ('normal', np.ones((48, 64, 3), bool), r'normal map must hold unsigned int / int / float '
     r'values, got dtype bool'),
])
def test_target_of_wrong_dtype(root, folder, array, what):
    ds = _ds(root)
    np.save(_f(root, folder, 6), array)
    with pytest.raises(AnnotationReadError,
                       match=rf'{folder if folder != "label" else "semseg"} ground-truth file '
                       rf'.*{folder}/6\.npy \(sample index 6\): .*{what}'):
        ds[6]


@pytest.fixture(scope='module')
def model():
    """The tiny config's model (lite DiffusionMTL head, 4 tasks)."""
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')
    cfg = tiny_cfg('unused', 'unused')
    torch.manual_seed(0)
    return MODELS.build(cfg.model)


def _loss(model, batch):
    data = model.data_preprocessor(pseudo_collate(batch), training=True)
    model.train()
    model.zero_grad()
    losses = model(**data, mode='loss')
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    grads_finite = all(torch.isfinite(p.grad).all() for p in model.parameters()
                       if p.grad is not None)
    return losses, total, grads_finite


def test_nan_inf_depth_and_zero_normals_are_masked_not_fatal(root, model):
    d = np.load(_f(root, 'depth', 0)).astype(np.float32)
    d[:10] = np.nan
    d[10:20] = np.inf
    d[20:22] = -np.inf
    np.save(_f(root, 'depth', 0), d)
    n = np.load(_f(root, 'normal', 0)).astype(np.float32)
    n[:, :20] = 0  # zero vectors: invalid pixels
    np.save(_f(root, 'normal', 0), n)
    np.save(_f(root, 'normal', 1), np.zeros_like(n))  # all-zero normal map
    ds = _ds(root)
    s0, s1 = ds[0], ds[1]
    gt = s0['data_samples'].gt_depth_map.data
    assert torch.isfinite(gt).all() and (gt[0, :22] == 0).all() and (gt[0, 22:] > 0).any()
    assert (s0['data_samples'].gt_normal_map.data[:, :, :20] == 0).all()
    assert s0['data_samples'].task_mask == dict(semseg=True, depth=True, normal=True,
                                                edge=True)
    assert s1['data_samples'].task_mask['normal'] is False  # nothing valid: not a label
    losses, total, grads_finite = _loss(model, [s0, s1])
    assert math.isfinite(float(total)) and grads_finite
    assert all(math.isfinite(float(v)) for v in losses.values())


def test_sample_without_labels_is_skipped_in_the_loss(root, model):
    ds = _ds(root)
    unlabelled = ds[2]
    unlabelled['data_samples'].set_metainfo(dict(task_mask={t: False for t in TASKS}))
    # a batch where nothing is labelled: exact zeros, finite gradients
    losses, total, grads_finite = _loss(model, [unlabelled, unlabelled])
    assert float(total) == 0.0 and grads_finite
    # mixed with a labelled sample: finite, and the unlabelled one adds nothing
    losses, total, grads_finite = _loss(model, [unlabelled, ds[3]])
    assert math.isfinite(float(total)) and float(total) > 0 and grads_finite


def test_split_file_of_wrong_length(root, tmp_path):
    path = str(tmp_path / 'nyuv2_onelabel.pth')
    torch.save({'labels_weights': torch.ones(795, 3)}, path)
    with pytest.raises(ValueError, match=r'split file .*nyuv2_onelabel\.pth has 795 rows but the '
                       r'dataset has 16 samples'):
        NYUDv2MTANDataset(data_root=root, tasks=['semseg', 'depth', 'normal'],
                          split_file=path)


def test_unknown_task_in_config(root):
    with pytest.raises(KeyError, match=r"NYUDv2MTANDataset: unknown task 'dpeth'"):
        DATASETS.build(dict(type='NYUDv2MTANDataset', data_root=root,
                            tasks=['semseg', 'dpeth']))
    cfg = tiny_cfg(root, 'unused')
    cfg.model.decode_head.tasks = dict(semseg=10, dpeth=1)
    with pytest.raises(KeyError, match=r"DiffusionMTLHead: unknown task 'dpeth'"):
        MODELS.build(cfg.model)


def test_head_and_dataset_disagree_on_tasks_or_classes(model):
    tasks = head_tasks(model)
    assert tasks == dict(semseg=10, depth=1, normal=3, edge=1)
    meta = dict(tasks=('semseg', 'depth', 'normal', 'edge'), classes=tuple('abcdefghij'),
                task_channels=dict(semseg=10, depth=1, normal=3, edge=1))
    check_head_matches_metainfo(tasks, meta)  # agrees
    with pytest.raises(TaskConfigMismatchError,
                       match=r'semseg: head has 10 classes, dataset has 13'):
        check_head_matches_metainfo(tasks, dict(meta, classes=tuple(range(13))))
    with pytest.raises(TaskConfigMismatchError,
                       match=r"\['edge'\] are predicted by the head but not loaded by the "
                       r'dataset'):
        check_head_matches_metainfo(tasks, dict(meta, tasks=('semseg', 'depth', 'normal')),
                                    where='val_dataloader')


def test_every_shipped_config_is_consistent():
    """The head of every config in configs/ agrees with its dataset class."""
    import glob

    from mmengine.config import Config
    from reliability_utils import ROOT
    checked = 0
    for path in sorted(glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)):
        if '_base_' in osp.relpath(path, ROOT).split(osp.sep):
            continue
        cfg = Config.fromfile(path)
        head = cfg.model.decode_head
        if not isinstance(head.get('tasks'), dict):
            continue
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            ds_cfg = cfg[loader].dataset
            cls = DATASETS.get(ds_cfg.type)
            meta = dict(cls.METAINFO, **(ds_cfg.get('metainfo') or {}))
            meta['tasks'] = ds_cfg.get('tasks') or cls.METAINFO['tasks']
            check_head_matches_metainfo(head.tasks, meta, where=f'{path}: {loader}')
            checked += 1
    assert checked >= 30


def test_data_loading_error_surfaces_through_training(root, tmp_path):
    """No error is swallowed: a corrupt file stops training, naming it."""
    cfg = tiny_cfg(root, str(tmp_path), **{'train_cfg.max_iters': 2})
    cfg.train_dataloader.sampler = dict(type='DefaultSampler', shuffle=False)
    with open(osp.join(root, 'train', 'label', '1.npy'), 'wb') as f:
        f.write(b'garbage')
    with pytest.raises(AnnotationReadError,
                       match=r'semseg ground-truth file .*label/1\.npy \(sample index 1\)'):
        build_runner(cfg).train()
    # the same through a worker process of the DataLoader
    ds = DATASETS.build(dict(cfg.train_dataloader.dataset, data_root=root))
    loader = torch.utils.data.DataLoader(ds, batch_size=2, num_workers=1,
                                         collate_fn=pseudo_collate)
    with pytest.raises(AnnotationReadError, match=r'label/1\.npy \(sample index 1\)'):
        next(iter(loader))
