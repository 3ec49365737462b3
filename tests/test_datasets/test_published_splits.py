"""The published split files shipped in the package, selected by name, and
DiffusionMTL's ``new_*.pth`` files as numpy / torch write them (issue #13,
items 3 and 4)."""
import glob
import hashlib
import io
import os
import os.path as osp
import zipfile

import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmdmtl.datasets import NYUDv2MTANDataset
from mmdmtl.datasets.partial_labels import (
    DIFFUSIONMTL_PASCAL_TASKS,
    load_partial_split,
    resolve_split_file,
)
from mmdmtl.datasets.splits import PUBLISHED_SPLITS, SPLITS_DIR, published_split_path

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

EXPECTED = {
    'nyuv2_onelabel': dict(semseg=265, depth=265, normal=265),
    'nyuv2_randomlabels': dict(semseg=392, depth=408, normal=385),
    'cityscapes_onelabel': dict(semseg=1487, depth=1488),
    'pascal_onelabel': dict(parts=999, edge=999, semseg=1000, normal=1000, sal=1000),
    'pascal_randomlabels': dict(parts=847, edge=2557, semseg=2450, normal=2480, sal=2445),
}


def test_shipped_files_licence_and_provenance():
    assert sorted(PUBLISHED_SPLITS) == sorted(EXPECTED)
    with open(osp.join(SPLITS_DIR, 'PROVENANCE.md'), encoding='utf-8') as f:
        provenance = f.read()
    assert 'VICO-UoE/MTPSL' in provenance and 'e9d8859' in provenance
    with open(osp.join(SPLITS_DIR, 'LICENSE.MTPSL'), encoding='utf-8') as f:
        assert f.read().startswith('MIT License')
    for name, (fname, source, sha256) in PUBLISHED_SPLITS.items():
        path = published_split_path(name)
        assert path == osp.join(SPLITS_DIR, fname) and osp.isfile(path)
        with open(path, 'rb') as f:
            assert hashlib.sha256(f.read()).hexdigest() == sha256, name
        assert sha256 in provenance and source in provenance


@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_shipped_split_loads_by_name(name):
    split = load_partial_split(name)
    assert split.source == published_split_path(name)
    assert split.counts() == EXPECTED[name]
    # the file name works as well
    assert load_partial_split(osp.basename(split.source)).counts() == EXPECTED[name]


def test_unknown_name_lists_the_shipped_names():
    with pytest.raises(FileNotFoundError, match=r"nyuv2_onelabels.*'nyuv2_onelabel'"):
        load_partial_split('nyuv2_onelabels')


def test_dataset_selects_a_shipped_split_by_name(tmp_path):
    from mmdmtl.registry import DATASETS
    root = str(tmp_path / 'nyu795')
    # 795 tiny images: row i of the published file labels image i
    os.makedirs(osp.join(root, 'train', 'image'))
    rng = np.random.default_rng(0)
    for i in range(795):
        np.save(osp.join(root, 'train', 'image', f'{i}.npy'),
                rng.random((2, 3, 3)).astype(np.float32))
    ds = DATASETS.build(dict(type='NYUDv2MTANDataset', data_root=root,
                             tasks=['semseg', 'depth', 'normal'],
                             split_file='nyuv2_onelabel'))
    assert ds.task_mask_array().sum(0).tolist() == [265, 265, 265]
    assert ds.get_data_info(1)['task_mask'] == dict(semseg=False, depth=False, normal=True)
    # a file of that name under data_root takes precedence over the shipped one
    os.makedirs(osp.join(root, 'mine'))
    torch.save({'labels_weights': torch.ones(795, 3)}, osp.join(root, 'mine', 's.pth'))
    full = NYUDv2MTANDataset(data_root=root, tasks=['semseg', 'depth', 'normal'],
                             split_file='mine/s.pth')
    assert full.task_mask_array().all()


def test_every_config_split_file_resolves():
    checked = 0
    for path in sorted(glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)):
        cfg = Config.fromfile(path)
        split_file = cfg.get('train_dataloader', {}).get('dataset', {}).get('split_file')
        if isinstance(split_file, str):
            resolve_split_file(split_file)  # raises when it does not exist
            checked += 1
    assert checked >= 5


# ------------------------------------------------- DiffusionMTL's new_*.pth
def _notebook_mapping(npy_name: str) -> dict:
    """``{image id: [5 flags]}`` built the way ``get_task_mapping.ipynb`` does:
    from the published ``.npy`` lists (numpy ``str_`` ids) with numpy ops, so
    the flags are numpy integer scalars."""
    from mmdmtl.datasets.safe_split_loading import load_npy_safely
    by_task = load_npy_safely(published_split_path(npy_name)).item()
    order = ['semseg', 'human_parts', 'sal', 'normals', 'edge']
    labelled = {t: set(by_task[t]) for t in order}
    ids = sorted({i for v in by_task.values() for i in v})
    mapping = {}
    for img in ids:
        flags = np.array([img in labelled[t] for t in order]).astype(int)
        mapping[img] = list(flags)
    return mapping


def _rename_numpy_scalar_global(path: str, old: bytes, new: bytes) -> None:
    """Rewrite the pickle inside a torch zip file as numpy 1.x would name
    ``scalar`` (``numpy.core.multiarray``) instead of numpy 2.x."""
    with zipfile.ZipFile(path) as z:
        entries = [(info, z.read(info.filename)) for info in z.infolist()]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', zipfile.ZIP_STORED) as z:
        for info, data in entries:
            if info.filename.endswith('data.pkl'):
                assert old in data
                data = data.replace(old, new)
            z.writestr(info, data)
    with open(path, 'wb') as f:
        f.write(buf.getvalue())


@pytest.fixture(scope='module')
def new_onelabel_mapping():
    return _notebook_mapping('pascal_onelabel')


@pytest.mark.parametrize('numpy_name', ['numpy-2', 'numpy-1'])
def test_diffusionmtl_new_onelabel_pth_with_numpy_scalars(tmp_path, new_onelabel_mapping,
                                                          numpy_name):
    mapping = new_onelabel_mapping
    first = next(iter(mapping.values()))
    assert isinstance(first[0], np.integer)  # numpy scalars, as the notebook writes them
    path = str(tmp_path / 'new_onelabel.pth')
    torch.save(mapping, path)
    if numpy_name == 'numpy-1':
        _rename_numpy_scalar_global(path, b'numpy._core.multiarray\nscalar',
                                    b'numpy.core.multiarray\nscalar')
    with pytest.raises(Exception, match='Unsupported global'):
        torch.load(path, weights_only=True)  # what failed before
    split = load_partial_split(path)
    assert split.tasks == DIFFUSIONMTL_PASCAL_TASKS
    assert len(split) == 4998
    reference = load_partial_split('pascal_onelabel')
    assert split.sample_ids == reference.sample_ids
    assert np.array_equal(split.mask, reference.mask_for(DIFFUSIONMTL_PASCAL_TASKS,
                                                         sample_ids=split.sample_ids))
    row = mapping[split.sample_ids[10]]
    assert split.mask[10].tolist() == [bool(v) for v in row]


def test_numpy_str_keys_and_other_scalar_types(tmp_path):
    path = str(tmp_path / 'new_randomlabels.pth')
    ids = np.array(['2008_000002', '2008_000003', '2008_000007'])
    rows = [np.array([1, 0, 1, 0, 0], dtype=np.int32), np.array([0, 1, 0, 0, 1], dtype=bool),
            np.array([1, 1, 1, 1, 1], dtype=np.float64)]
    torch.save({i: list(r) for i, r in zip(ids, rows)}, path)  # np.str_ keys
    split = load_partial_split(path)
    assert split.sample_ids == [str(i) for i in ids]
    assert split.mask.astype(int).tolist() == [[1, 0, 1, 0, 0], [0, 1, 0, 0, 1], [1] * 5]
