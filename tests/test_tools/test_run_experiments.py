"""tools/run_experiments.py: Δm arithmetic, label settings, and a tiny real
run of the table and of the label-efficiency sweep (2 iterations each)."""
import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

from mmdmtl import experiments as re_tool

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(ROOT, 'tools', 'run_experiments.py')
TINY = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_synthetic.py')



def test_delta_m_signs_follow_metric_direction():
    stl = {'semseg/mIoU': 40.0, 'depth/absErr': 0.5}
    # mIoU +10% (better), absErr +10% (worse) -> mean 0
    assert re_tool.delta_m({'semseg/mIoU': 44.0, 'depth/absErr': 0.55}, stl,
                           ['semseg', 'depth']) == pytest.approx(0.0)
    # both better by 10%
    assert re_tool.delta_m({'semseg/mIoU': 44.0, 'depth/absErr': 0.45}, stl,
                           ['semseg', 'depth']) == pytest.approx(10.0)


def test_label_fraction_names():
    assert re_tool.label_fraction('frac5') == pytest.approx(0.05)
    assert re_tool.label_fraction('frac100') == pytest.approx(1.0)
    assert re_tool.label_fraction('onelabel') is None
    assert re_tool.fraction_split(12.5) == 'frac12.5'
    with pytest.raises(ValueError, match='frac<percent>'):
        re_tool.label_fraction('fracx')
    with pytest.raises(ValueError, match=r'\(0, 100\]'):
        re_tool.label_fraction('frac0')


def test_each_label_setting_has_one_name():
    assert [re_tool.canonical_split(s) for s in
            ('frac50.0', 'frac5e1', 'frac050', 'frac12.50', 'onelabel', 'randomlabels',
             'full')] == ['frac50', 'frac50', 'frac50', 'frac12.5', 'onelabel',
                          'randomlabels', 'full']
    with pytest.raises(ValueError, match="'twolabels': expected onelabel, randomlabels, "
                       'full or frac<percent>'):
        re_tool.canonical_split('twolabels')
    with pytest.raises(ValueError, match=r"'frac150': percent must be in \(0, 100\]"):
        re_tool.canonical_split('frac150')


@pytest.mark.parametrize('split, message', [
    ('frac50.0', "--splits: label setting 'frac50.0' is filed as 'frac50'; pass frac50"),
    ('twolabels', "--splits: label setting 'twolabels': expected onelabel"),
    ('frac0', "--splits: label setting 'frac0': percent must be in (0, 100]")])
def test_the_runner_refuses_a_label_setting_it_would_file_apart(tmp_path, split, message):
    spec = importlib.util.spec_from_file_location('run_experiments_tool', TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    work = tmp_path / 'work'
    with pytest.raises(SystemExit) as e:  # before anything is run or written
        tool.main(['--config', TINY, '--splits', 'frac50', split, '--work-dir', str(work)])
    assert message in str(e.value)
    assert not work.exists()


def test_fraction_split_file_labels_the_fraction_per_task(tmp_path):
    from mmengine.config import Config

    from mmdmtl.datasets.partial_labels import load_partial_split
    cfg = Config.fromfile(TINY)
    path = re_tool.split_file_for(cfg, 'frac25', ['semseg', 'depth'], str(tmp_path))
    split = load_partial_split(path)
    assert split.counts() == {'semseg': 4, 'depth': 4}  # 25% of 16
    # the same name gives the same file (reused, seed 0)
    assert re_tool.split_file_for(cfg, 'frac25', ['semseg', 'depth'], str(tmp_path)) == path


def test_unknown_method_is_rejected():
    with pytest.raises(KeyError, match='unknown method'):
        re_tool.head_overrides('diffusion')


def _run(args, cwd):
    env = dict(os.environ, MPLBACKEND='Agg')
    proc = subprocess.run([sys.executable, TOOL] + args, cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


@pytest.fixture(scope='module')
def common(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('runner')
    root = str(tmp / 'synthetic')
    opts = ['--cfg-options'] + [f'{k}.dataset.data_root={root}' for k in
                                ('train_dataloader', 'val_dataloader', 'test_dataloader')]
    return dict(tmp=tmp, opts=['--config', TINY, '--tasks', 'semseg', 'depth',
                               '--iters', '2', '--seeds', '0', '--jobs', '2',
                               '--work-dir', str(tmp / 'work')] + opts)


def test_table_runs_stl_and_mtl_and_writes_results(common):
    out = str(common['tmp'] / 'table')
    log = _run(common['opts'] + ['--splits', 'onelabel', '--methods', 'mtl', '--out', out],
               cwd=str(common['tmp']))
    assert '3 runs to do, 2 at a time' in log
    with open(osp.join(out, 'results.json')) as f:
        res = json.load(f)
    runs = res['runs']['onelabel']['0']
    assert 'semseg/mIoU' in runs['stl'] and 'depth/absErr' in runs['stl']
    dm = re_tool.delta_m(runs['mtl'], runs['stl'], ['semseg', 'depth'])
    assert res['summary']['onelabel/mtl']['delta_m'][0] == pytest.approx(dm)
    md = open(osp.join(out, 'results.md')).read()
    assert '| onelabel | MTL baseline |' in md and 'Δm (%)' in md
    assert osp.getsize(osp.join(out, 'delta_m.png')) > 1000
    # finished runs are reused: nothing left to do
    log = _run(common['opts'] + ['--splits', 'onelabel', '--methods', 'mtl', '--out', out],
               cwd=str(common['tmp']))
    assert 'runs to do' not in log


def test_label_efficiency_sweep(common):
    out = str(common['tmp'] / 'sweep')
    _run(common['opts'] + ['--label-fractions', '50', '100', '--methods', 'mtl',
                           '--out', out], cwd=str(common['tmp']))
    with open(osp.join(out, 'label_efficiency.json')) as f:
        res = json.load(f)
    assert res['fractions'] == [50.0, 100.0]
    ref = res['single_task_100']['0']
    for p in ('50', '100'):
        row = res['runs']['mtl'][p]
        assert len(row['semseg']) == 1 and len(row['delta_m']) == 1
        met = {'semseg/mIoU': row['semseg'][0], 'depth/absErr': row['depth'][0]}
        assert row['delta_m'][0] == pytest.approx(
            re_tool.delta_m(met, ref, ['semseg', 'depth']))
    work = str(common['tmp'] / 'work')
    split50 = json.load(open(osp.join(work, 'splits', 'frac50_semseg-depth_n16.json')))
    assert split50['statistics']['labelled_per_task'] == {'semseg': 8, 'depth': 8}
    assert '| MTL baseline | 50 |' in open(osp.join(out, 'label_efficiency.md')).read()
    assert osp.getsize(osp.join(out, 'label_efficiency.png')) > 1000
