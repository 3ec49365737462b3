"""On-disk synthetic dataset: layout, cache reuse, interruption recovery."""
import json
import os
import os.path as osp
import shutil

import numpy as np
import pytest

from mmdmtl.datasets.synthetic import (
    SYNTHETIC_CLASSES,
    ensure_synthetic_dataset,
    generation_name,
    is_complete_synthetic_dataset,
    render_scene,
    scene_seed,
)
from mmdmtl.datasets.synthetic import generate as gen_mod

H, W = 48, 64
N_TRAIN, N_VAL = 8, 4
KW = dict(num_train=N_TRAIN, num_val=N_VAL, height=H, width=W, seed=7, progress=False,
          num_workers=1)
FOLDERS = ('image', 'label', 'depth', 'normal', 'edge')


def _mtimes(root):
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = osp.join(dirpath, f)
            out[p] = os.stat(p).st_mtime_ns
    return out


PARAMS = {k: KW[k] for k in ('num_train', 'num_val', 'height', 'width', 'seed')}


@pytest.fixture
def dataset(tmp_path):
    """The generation folder (``<cache>/gen-...``) of the tiny dataset."""
    root = str(tmp_path / 'synthetic')
    gen = ensure_synthetic_dataset(root, **KW)
    assert gen == osp.join(root, generation_name(**PARAMS))
    return gen


def test_layout_and_content(dataset):
    for split, n in (('train', N_TRAIN), ('val', N_VAL)):
        for folder in FOLDERS:
            names = sorted(os.listdir(osp.join(dataset, split, folder)))
            assert names == sorted(f'{i}.npy' for i in range(n)), (split, folder)
        img = np.load(osp.join(dataset, split, 'image', '0.npy'))
        label = np.load(osp.join(dataset, split, 'label', '0.npy'))
        depth = np.load(osp.join(dataset, split, 'depth', '0.npy'))
        normal = np.load(osp.join(dataset, split, 'normal', '0.npy'))
        edge = np.load(osp.join(dataset, split, 'edge', '0.npy'))
        assert img.shape == (H, W, 3) and img.dtype == np.float32
        assert 0 <= img.min() and img.max() <= 1
        assert label.shape == (H, W) and label.dtype == np.float32 and label.min() >= -1
        assert depth.shape == (H, W, 1) and depth.dtype == np.float32
        assert normal.shape == (H, W, 3) and normal.dtype == np.float32
        assert np.abs(normal).max() <= 1 + 1e-6
        assert edge.shape == (H, W) and edge.dtype == np.uint8
    # file i of a split is the scene of scene_seed(seed, split, i)
    ref = render_scene(scene_seed(7, 'val', 2), H, W)
    for folder in FOLDERS:
        np.testing.assert_array_equal(np.load(osp.join(dataset, 'val', folder, '2.npy')),
                                      ref[folder])
    assert scene_seed(7, 'train', 2) != scene_seed(7, 'val', 2)
    meta = json.load(open(osp.join(dataset, 'meta.json')))
    assert meta['num_train'] == N_TRAIN and meta['height'] == H
    assert meta['classes'] == list(SYNTHETIC_CLASSES)
    assert not [f for f in _mtimes(dataset) if '.tmp' in f]


def test_partial_label_splits(dataset):
    from mmdmtl.datasets.partial_labels import load_partial_split
    one = load_partial_split(osp.join(dataset, 'splits', 'onelabel.json'))
    assert tuple(one.tasks) == ('semseg', 'depth', 'normal')
    assert one.mask.shape == (N_TRAIN, 3) and np.all(one.mask.sum(1) == 1)
    rnd = load_partial_split(osp.join(dataset, 'splits', 'randomlabels_4tasks.json'))
    assert tuple(rnd.tasks) == ('semseg', 'depth', 'normal', 'edge')
    assert np.all((rnd.mask.sum(1) >= 1) & (rnd.mask.sum(1) <= 3))


def test_cache_is_reused(dataset):
    before = _mtimes(dataset)
    assert is_complete_synthetic_dataset(dataset, **PARAMS)
    assert ensure_synthetic_dataset(dataset, **KW) == dataset
    assert ensure_synthetic_dataset(osp.dirname(dataset), **KW) == dataset
    assert _mtimes(dataset) == before


def test_deleted_generation_is_rendered_again(dataset):
    ref = {f: np.load(osp.join(dataset, 'train', f, '5.npy')) for f in FOLDERS}
    shutil.rmtree(dataset)
    assert ensure_synthetic_dataset(osp.dirname(dataset), **KW) == dataset
    assert is_complete_synthetic_dataset(dataset, **PARAMS)
    for f in FOLDERS:  # same content as before: deterministic
        np.testing.assert_array_equal(np.load(osp.join(dataset, 'train', f, '5.npy')), ref[f])


def test_other_parameters_make_a_new_generation(dataset):
    kw = dict(KW, num_train=5, height=32, width=40)
    new = ensure_synthetic_dataset(osp.dirname(dataset), **kw)
    assert new != dataset and osp.dirname(new) == osp.dirname(dataset)
    assert len(os.listdir(osp.join(new, 'train', 'image'))) == 5
    assert np.load(osp.join(new, 'train', 'label', '0.npy')).shape == (32, 40)
    assert json.load(open(osp.join(new, 'meta.json')))['num_train'] == 5
    assert is_complete_synthetic_dataset(dataset, **PARAMS)  # the old one is kept


def test_parallel_generation_is_identical(tmp_path, monkeypatch, dataset):
    monkeypatch.setattr(gen_mod, 'MIN_JOBS_FOR_POOL', 0)
    root = ensure_synthetic_dataset(str(tmp_path / 'parallel'), **dict(KW, num_workers=2))
    for split, n in (('train', N_TRAIN), ('val', N_VAL)):
        for i in range(n):
            for f in FOLDERS:
                a = np.load(osp.join(root, split, f, f'{i}.npy'))
                b = np.load(osp.join(dataset, split, f, f'{i}.npy'))
                np.testing.assert_array_equal(a, b)


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match='height'):
        ensure_synthetic_dataset(str(tmp_path / 'x'), **dict(KW, height=1))
    with pytest.raises(KeyError, match='split'):
        scene_seed(0, 'test', 0)
