"""Published split files, the split generator, manifests and the CLI."""
import json
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import torch

from mmdmtl.datasets.partial_labels import (
    PartialLabelSplit,
    generate_partial_split,
    load_partial_split,
    save_partial_split,
)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
NYU = ('semseg', 'depth', 'normal')


def test_published_nyuv2_onelabel(published_split):
    split = load_partial_split(published_split('nyuv2_onelabel.pth'))
    assert split.tasks == NYU and split.sample_ids is None
    assert split.mask.shape == (795, 3)
    assert split.counts() == dict(semseg=265, depth=265, normal=265)
    assert (split.mask.sum(1) == 1).all()
    # row 0 of the published file labels semseg, row 1 normal
    assert split.mask[0].tolist() == [True, False, False]
    assert split.mask[1].tolist() == [False, False, True]


def test_published_nyuv2_randomlabels(published_split):
    split = load_partial_split(published_split('nyuv2_randomlabels.pth'))
    assert split.counts() == dict(semseg=392, depth=408, normal=385)
    hist = split.statistics()['labels_per_sample_histogram']
    assert hist == {'0': 0, '1': 405, '2': 390, '3': 0}


def test_published_cityscapes_and_pascal(published_split):
    cs = load_partial_split(published_split('cityscapes_onelabel.pth'))
    assert cs.tasks == ('semseg', 'depth')
    assert cs.counts() == dict(semseg=1487, depth=1488)
    pas = load_partial_split(published_split('pascal_onelabel.npy'))
    assert set(pas.tasks) == {'semseg', 'parts', 'sal', 'normal', 'edge'}
    assert len(pas) == 4998 and len(pas.sample_ids) == 4998
    assert pas.counts() == dict(parts=999, edge=999, semseg=1000, normal=1000, sal=1000)
    rnd = load_partial_split(published_split('pascal_randomlabels.npy'))
    assert rnd.counts() == dict(parts=847, edge=2557, semseg=2450, normal=2480, sal=2445)
    # id lookup returns the dataset's order and the requested task order
    ids = [pas.sample_ids[3], pas.sample_ids[0]]
    m = pas.mask_for(['sal', 'semseg'], sample_ids=ids)
    j_sal, j_sem = pas.tasks.index('sal'), pas.tasks.index('semseg')
    assert m.tolist() == [[pas.mask[3, j_sal], pas.mask[3, j_sem]],
                          [pas.mask[0, j_sal], pas.mask[0, j_sem]]]


def test_diffusionmtl_id_rows_pth(tmp_path):
    path = str(tmp_path / 'new_onelabel.pth')
    torch.save({'a': [1, 0, 0, 0, 0], 'b': [0, 0, 0, 0, 1]}, path)
    split = load_partial_split(path)
    assert split.tasks == ('semseg', 'parts', 'sal', 'normal', 'edge')
    assert split.mask_for(['edge', 'semseg'], sample_ids=['b', 'a']).tolist() == [
        [True, False], [False, True]]


def test_split_length_and_task_errors(tmp_path):
    path = str(tmp_path / 'nyu.pth')
    torch.save({'labels_weights': torch.ones(5, 3)}, path)
    split = load_partial_split(path)
    with pytest.raises(ValueError, match=r'nyu\.pth has 5 rows but the dataset has 4'):
        split.mask_for(NYU, num_samples=4)
    with pytest.raises(KeyError, match=r"nyu\.pth has no column for task 'edge'"):
        split.mask_for(['semseg', 'edge'], num_samples=5)
    bad = str(tmp_path / 'four.pth')
    torch.save({'labels_weights': torch.ones(5, 4)}, bad)
    with pytest.raises(ValueError, match=r'four\.pth.*4 task columns'):
        load_partial_split(bad)
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        load_partial_split(str(tmp_path / 'missing.pth'))
    junk = tmp_path / 'junk.pth'
    junk.write_bytes(b'not a torch file')
    with pytest.raises(ValueError, match=r'cannot read .*junk\.pth'):
        load_partial_split(str(junk))
    pas = str(tmp_path / 'p.npy')
    np.save(pas, np.array({'semseg': ['x'], 'sal': ['y']}, dtype=object))
    with pytest.raises(ValueError, match=r"p\.npy has no entry for 1 .*'z'"):
        load_partial_split(pas).mask_for(['semseg'], sample_ids=['x', 'z'])
    unknown = str(tmp_path / 'u.npy')
    np.save(unknown, np.array({'semseg': ['x'], 'foo': ['y']}, dtype=object))
    with pytest.raises(Exception, match='u.npy'):
        load_partial_split(unknown)


@pytest.mark.parametrize('n', [795, 10, 7])
def test_onelabel_is_balanced(n):
    split = generate_partial_split(n, NYU, 'onelabel', seed=3)
    assert (split.mask.sum(1) == 1).all()
    c = np.array(list(split.counts().values()))
    assert c.sum() == n and c.max() - c.min() <= 1


def test_generator_modes_and_seed():
    a = generate_partial_split(500, NYU, 'randomlabels', seed=1)
    b = generate_partial_split(500, NYU, 'randomlabels', seed=1)
    c = generate_partial_split(500, NYU, 'randomlabels', seed=2)
    assert np.array_equal(a.mask, b.mask) and not np.array_equal(a.mask, c.mask)
    assert (a.mask.sum(1) >= 1).all()
    # uniform over the 7 non-empty subsets: about 4/7 of images per task
    assert all(abs(v / 500 - 4 / 7) < 0.08 for v in a.counts().values())
    capped = generate_partial_split(300, NYU, 'randomlabels', seed=0, max_labels=2)
    assert capped.mask.sum(1).max() == 2 and capped.mask.sum(1).min() == 1
    tasks5 = ('semseg', 'parts', 'sal', 'normal', 'edge')
    k2 = generate_partial_split(100, tasks5, 'k_of_t', seed=0, k=2)
    assert (k2.mask.sum(1) == 2).all()
    assert set(k2.counts().values()) == {40}
    assert len({tuple(r) for r in k2.mask.tolist()}) > 5  # many combinations occur
    frac = generate_partial_split(200, NYU, 'fraction', seed=0, fractions={'depth': 0.1})
    assert frac.counts() == dict(semseg=200, depth=20, normal=200)
    full = generate_partial_split(9, NYU, 'full')
    assert full.mask.all()
    with pytest.raises(ValueError, match='k_of_t'):
        generate_partial_split(5, NYU, 'k_of_t', k=4)
    with pytest.raises(KeyError, match='edge'):
        generate_partial_split(5, NYU, 'fraction', fractions={'edge': 0.5})
    with pytest.raises(KeyError, match='unknown task'):
        generate_partial_split(5, ['semseg', 'bogus'], 'onelabel')
    with pytest.raises(ValueError, match='unknown split mode'):
        generate_partial_split(5, NYU, 'half')


@pytest.mark.parametrize('ext', ['.json', '.pth'])
def test_manifest_round_trip(tmp_path, ext):
    split = generate_partial_split(20, NYU, 'randomlabels', seed=4,
                                   sample_ids=[f'id{i}' for i in range(20)])
    path = save_partial_split(split, str(tmp_path / ('m' + ext)))
    back = load_partial_split(path)
    assert back.tasks == split.tasks and back.sample_ids == split.sample_ids
    assert np.array_equal(back.mask, split.mask)
    assert back.meta['mode'] == 'randomlabels' and back.meta['seed'] == 4
    if ext == '.json':
        with open(path) as f:
            obj = json.load(f)
        assert obj['statistics']['labelled_per_task'] == split.counts()
        assert obj['statistics']['num_samples'] == 20


def test_statistics():
    split = PartialLabelSplit(('semseg', 'depth'), np.array([[1, 0], [1, 1], [0, 0]]))
    s = split.statistics()
    assert s['labelled_per_task'] == dict(semseg=2, depth=1)
    assert s['labels_per_sample_histogram'] == {'0': 1, '1': 1, '2': 1}
    assert s['num_unlabelled_samples'] == 1
    assert s['mean_labels_per_sample'] == pytest.approx(1.0)
    assert s['fraction_per_task']['semseg'] == pytest.approx(2 / 3)


def test_cli_creates_manifest_and_prints_counts(tmp_path):
    out = tmp_path / 'split.json'
    res = subprocess.run([
        sys.executable, osp.join(ROOT, 'tools', 'make_partial_split.py'), '--num-samples',
        '30', '--tasks', 'semseg', 'depth', 'normal', '--mode', 'onelabel', '--seed', '0',
        '--out', str(out)
    ], capture_output=True, text=True, check=True)
    assert out.is_file()
    assert 'semseg' in res.stdout and '10' in res.stdout
    assert load_partial_split(str(out)).counts() == dict(semseg=10, depth=10, normal=10)
    res = subprocess.run([
        sys.executable, osp.join(ROOT, 'tools', 'make_partial_split.py'), '--show',
        str(out), '--json-stats'
    ], capture_output=True, text=True, check=True)
    assert json.loads(res.stdout)['labelled_per_task'] == dict(semseg=10, depth=10, normal=10)
