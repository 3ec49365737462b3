"""tools/analysis_tools/delta_m_table.py: Δm of models outside the runner."""
import json
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(ROOT, 'tools', 'analysis_tools', 'delta_m_table.py')


def _write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def _run(*args):
    return subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def runs(tmp_path):
    for s, (miou, err) in enumerate(((40.0, 0.5), (42.0, 0.4))):
        _write(tmp_path / f'seed{s}' / 'stl_semseg' / 'm.json', {'semseg/mIoU': miou})
        _write(tmp_path / f'seed{s}' / 'stl_depth' / 'm.json', {'depth/absErr': err})
        _write(tmp_path / f'seed{s}' / 'mtl' / 'm.json',
               {'semseg/mIoU': miou * 0.9, 'depth/absErr': err * 1.1, 'mtl/delta_m': 0.0})
        _write(tmp_path / f'seed{s}' / 'refine.json',
               {'final': {'semseg/mIoU': miou, 'depth/absErr': err * 0.8},
                'initial': {'semseg/mIoU': 0.0, 'depth/absErr': 9.0}})
    return tmp_path


def test_values_match_a_hand_computation(runs, tmp_path):
    out = tmp_path / 'table.md'
    proc = _run('--seeds', '0', '1', '--tasks', 'semseg', 'depth',
                '--stl', f'{runs}/seed{{seed}}/stl_*/m.json',
                '--row', f'MTL={runs}/seed{{seed}}/mtl/m.json',
                '--row', f'refined={runs}/seed{{seed}}/refine.json#final', '--out', str(out))
    assert proc.returncode == 0, proc.stderr
    md = out.read_text()
    # MTL: semseg -10 %, depth +10 % error -> Δm = (-10 - 10) / 2 = -10 in both seeds
    # refined: semseg 0 %, depth -20 % error -> Δm = (0 + 20) / 2 = +10
    assert '| MTL | 36.90 ± 0.90 | 0.4950 ± 0.0550 | -10.00 ± 0.00 | -10.00, -10.00 |' in md
    assert '| refined | 41.00 ± 1.00 | 0.3600 ± 0.0400 | 10.00 ± 0.00 | 10.00, 10.00 |' in md
    assert md == proc.stdout


def test_errors_name_the_pattern_or_file(runs):
    base = ['--seeds', '0', '--tasks', 'semseg', 'depth',
            '--stl', f'{runs}/seed{{seed}}/stl_*/m.json']
    two = _run(*base, '--row', f'x={runs}/seed{{seed}}/*/m.json')
    assert two.returncode != 0 and 'must match exactly one file' in two.stderr
    key = _run(*base, '--row', f'x={runs}/seed{{seed}}/refine.json#best')
    assert key.returncode != 0 and "has no 'best'" in key.stderr
    metric = _run('--seeds', '0', '--tasks', 'semseg', 'normal', '--stl',
                  f'{runs}/seed{{seed}}/stl_*/m.json', '--row', f'x={runs}/seed{{seed}}/mtl/m.json')
    assert metric.returncode != 0 and "row x has no ['normal/mean']" in metric.stderr
    bad = _run(*base, '--row', 'no-equals-sign')
    assert bad.returncode == 2 and 'LABEL=PATTERN' in bad.stderr


def test_paired_differences_match_a_hand_computation(runs):
    base = ['--seeds', '0', '1', '--tasks', 'semseg', 'depth',
            '--stl', f'{runs}/seed{{seed}}/stl_*/m.json',
            '--row', f'MTL={runs}/seed{{seed}}/mtl/m.json',
            '--row', f'refined={runs}/seed{{seed}}/refine.json#final']
    proc = _run(*base, '--paired', 'refined', 'MTL')
    assert proc.returncode == 0, proc.stderr
    # semseg 40 - 36 = 4 and 42 - 37.8 = 4.2; depth 0.4 - 0.55 and 0.32 - 0.44;
    # Δm 10 - (-10) = 20 in both seeds
    assert '| refined − MTL | 4.10 ± 0.10 | -0.1350 ± 0.0150 | +20.00 ± 0.00 | +20.00, +20.00 |' \
        in proc.stdout
    assert '| refined | 41.00 ± 1.00 |' in proc.stdout  # the main table is still there
    bad = _run(*base, '--paired', 'refined', 'baseline')
    assert bad.returncode == 2 and "--paired names no --row: ['baseline']" in bad.stderr


def test_json_holds_the_per_seed_values(runs, tmp_path):
    out = tmp_path / 'sub' / 'table.json'
    proc = _run('--seeds', '0', '1', '--tasks', 'semseg', 'depth',
                '--stl', f'{runs}/seed{{seed}}/stl_*/m.json',
                '--row', f'refined={runs}/seed{{seed}}/refine.json#final',
                '--row', f'MTL={runs}/seed{{seed}}/mtl/m.json', '--json', str(out))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    assert data['tasks'] == ['semseg', 'depth'] and data['seeds'] == [0, 1]
    assert data['rows'] == ['refined', 'MTL']
    by = {(r['row'], r['seed']): r for r in data['records']}
    assert by[('MTL', 1)]['semseg'] == pytest.approx(37.8)
    assert by[('refined', 0)]['depth'] == pytest.approx(0.4)
    assert by[('MTL', 0)]['delta_m'] == pytest.approx(-10.0)
    assert data['single_task'] == [{'seed': 0, 'semseg': 40.0, 'depth': 0.5},
                                   {'seed': 1, 'semseg': 42.0, 'depth': 0.4}]
