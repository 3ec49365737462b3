"""tools/reproduce_checkpoint.py: a seed reproduces the same metrics, and a
metric outside its tolerance fails the check."""
import importlib.util
import json
import os.path as osp

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_synthetic.py')


def load_tool():
    spec = importlib.util.spec_from_file_location(
        'reproduce_checkpoint', osp.join(ROOT, 'tools', 'reproduce_checkpoint.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_compare_rows_and_tolerance():
    tool = load_tool()
    rows = tool.compare({'a': 1.0, 'b': 2.0}, {'a': 1.05, 'b': 2.5, 'c': 0},
                        {'a': 0.1, 'default': 0.2})
    assert [(r['metric'], r['ok']) for r in rows] == [('a', True), ('b', False)]
    assert rows[1]['diff'] == pytest.approx(0.5) and rows[1]['tolerance'] == 0.2
    with pytest.raises(KeyError, match="no metric 'x'"):
        tool.compare({'x': 1.0}, {'a': 1.0}, {})


def test_every_published_reproducible_model_is_complete():
    tool = load_tool()
    models = tool.published_models()
    assert {'diffusionmtl_r18-lite_1xb8-1k_synthetic-96x128',
            'mtl-baseline_r18-lite_1xb8-1k_synthetic-96x128'} <= set(models)
    for name, m in models.items():
        rep = m['Metadata']['Reproduce']
        assert isinstance(rep['seed'], int) and rep['minutes_2_cpu_cores'] > 0
        metrics = m['Results'][0]['Metrics']
        assert set(rep['tolerance']) <= set(metrics) | {'default'}
        assert osp.isfile(osp.join(ROOT, m['Config']))


@pytest.mark.slow
def test_same_seed_same_metrics_and_a_failing_check(tmp_path):
    tool = load_tool()
    data = tmp_path / 'data'
    opts = [f'{d}.dataset.data_root={data}' for d in
            ('train_dataloader', 'val_dataloader', 'test_dataloader')]
    first = tmp_path / 'first.json'
    first.write_text(json.dumps(dict(metrics={}, tolerance={}, seed=3)))
    assert tool.main(['tiny', '--config', TINY, '--expected', str(first), '--work-dir',
                      str(tmp_path / 'a'), '--cfg-options'] + opts) == 0
    res = json.loads((tmp_path / 'a' / 'tiny' / 'check.json').read_text())
    assert osp.isfile(res['checkpoint']) and res['seed'] == 3
    metrics = {k: v for k, v in res['metrics'].items() if k.split('/')[0] in
               ('semseg', 'depth', 'normal', 'edge')}
    assert metrics
    # the same seed on the same machine gives the same numbers: zero tolerance
    exact = tmp_path / 'exact.json'
    exact.write_text(json.dumps(dict(metrics=metrics, tolerance={'default': 0.0}, seed=3)))
    assert tool.main(['tiny', '--config', TINY, '--expected', str(exact), '--work-dir',
                      str(tmp_path / 'b'), '--cfg-options'] + opts) == 0
    again = json.loads((tmp_path / 'b' / 'tiny' / 'check.json').read_text())
    assert all(r['ok'] and r['diff'] == 0.0 for r in again['check'])
    # a published number the run does not reach fails the check
    key = sorted(metrics)[0]
    off = dict(metrics, **{key: metrics[key] + 1.0})
    bad = tmp_path / 'bad.json'
    bad.write_text(json.dumps(dict(metrics=off, tolerance={'default': 0.01}, seed=3)))
    assert tool.main(['tiny', '--config', TINY, '--expected', str(bad), '--work-dir',
                      str(tmp_path / 'c'), '--cfg-options'] + opts) == 1
    rows = json.loads((tmp_path / 'c' / 'tiny' / 'check.json').read_text())['check']
    assert [r['metric'] for r in rows if not r['ok']] == [key]
