"""model-index.yml and the per-algorithm metafiles (mmseg's schema), checked
against the configs they describe."""
import glob
import os.path as osp

import pytest
import yaml
from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FOLDERS = ('diffusionmtl', 'mtl_baseline', 'single_task')


def _index():
    with open(osp.join(ROOT, 'model-index.yml'), encoding='utf-8') as f:
        return yaml.safe_load(f)


def _models():
    out = []
    for rel in _index()['Import']:
        with open(osp.join(ROOT, rel), encoding='utf-8') as f:
            meta = yaml.safe_load(f)
        collections = {c['Name'] for c in meta['Collections']}
        for m in meta['Models']:
            assert m['In Collection'] in collections, (rel, m['Name'])
            out.append((rel, m))
    return out


def test_index_imports_every_algorithm_folder():
    assert _index()['Import'] == [f'configs/{f}/metafile.yaml' for f in FOLDERS]


def test_collections_have_the_mmseg_fields():
    for rel in _index()['Import']:
        with open(osp.join(ROOT, rel), encoding='utf-8') as f:
            meta = yaml.safe_load(f)
        for c in meta['Collections']:
            assert {'Name', 'License', 'Metadata', 'Paper', 'README', 'Frameworks'} <= set(c)
            assert osp.isfile(osp.join(ROOT, c['README'])), c['README']
            assert c['Paper']['URL'] == 'https://arxiv.org/abs/2403.15389'


def test_every_config_is_listed_once_with_matching_metadata():
    models = _models()
    names = [m['Name'] for _, m in models]
    assert len(names) == len(set(names))
    listed = {m['Config'] for _, m in models}
    on_disk = {osp.relpath(p, ROOT) for f in FOLDERS
               for p in glob.glob(osp.join(ROOT, 'configs', f, '*.py'))}
    assert listed == on_disk
    for rel, m in models:
        assert osp.basename(m['Config']) == m['Name'] + '.py'
        cfg = Config.fromfile(osp.join(ROOT, m['Config']))
        assert m['Metadata']['Batch Size'] == cfg.train_dataloader.batch_size, m['Name']
        assert m['Metadata']['Iterations'] == cfg.train_cfg.max_iters, m['Name']
        for r in m.get('Results', []):
            assert r['Metrics'] and all(isinstance(v, (int, float)) for v in r['Metrics'].values())


@pytest.mark.parametrize('name,metric,value', [
    ('diffusionmtl_r18_1xb4-40k_nyud-288x384', 'mIoU', 44.47),
    ('mtl-baseline_r18_1xb4-40k_nyud-288x384', 'delta_m', -3.99),
    ('stl-depth_r18_1xb4-40k_nyud-288x384', 'absErr', 0.4802),
])
def test_paper_numbers_are_labelled_as_such(name, metric, value):
    m = dict((m['Name'], m) for _, m in _models())[name]
    assert m['Results'][0]['Metrics'][metric] == value
    assert 'paper' in m['Metadata']['Results Source']
    assert 'not reproduced here' in m['Metadata']['Results Source']


def test_single_task_baselines_match_the_metafile():
    """The Δm baselines in the single-task configs are the metafile's numbers."""
    for _, m in _models():
        if not m['Name'].startswith('stl-'):
            continue
        cfg = Config.fromfile(osp.join(ROOT, m['Config']))
        base = dict(cfg.val_evaluator.baselines)
        assert list(m['Results'][0]['Metrics'].values()) == pytest.approx(list(base.values()))
