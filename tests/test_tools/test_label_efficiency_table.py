"""tools/analysis_tools/label_efficiency_table.py: per-fraction Δm tables
(delta_m_table.py --json) side by side, with paired differences and a plot."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(ROOT, 'tools', 'analysis_tools')


def _run(tool, *args):
    return subprocess.run([sys.executable, osp.join(TOOLS, tool), *args], capture_output=True,
                          text=True, timeout=120, env=dict(os.environ, MPLBACKEND='Agg'))


def _write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


@pytest.fixture(scope='module')
def tables(tmp_path_factory):
    """Two label fractions, two seeds, written by delta_m_table.py --json
    from metric files: at 10% the single-task models score 20 / 1.0 m, at
    50% 40 / 0.5 m (seed 1: 42 / 0.4); the MTL rows are 10 % worse, the
    refined rows 10 % better on semseg only."""
    tmp_path = tmp_path_factory.mktemp('tables')
    out = {}
    for pct, (miou, err) in ((10, (20.0, 1.0)), (50, (40.0, 0.5))):
        root = tmp_path / f'frac{pct}'
        for seed in (0, 1):
            m, e = (miou + 2 * seed, err - 0.1 * seed) if pct == 50 else (miou, err)
            _write(root / f'seed{seed}' / 'stl_semseg' / 'm.json', {'semseg/mIoU': m})
            _write(root / f'seed{seed}' / 'stl_depth' / 'm.json', {'depth/absErr': e})
            _write(root / f'seed{seed}' / 'mtl.json',
                   {'semseg/mIoU': m * 0.9, 'depth/absErr': e * 1.1})
            _write(root / f'seed{seed}' / 'ref.json', {'semseg/mIoU': m * 1.1, 'depth/absErr': e})
        proc = _run('delta_m_table.py', '--seeds', '0', '1', '--tasks', 'semseg', 'depth',
                    '--stl', f'{root}/seed{{seed}}/stl_*/m.json',
                    '--row', f'MTL={root}/seed{{seed}}/mtl.json',
                    '--row', f'refined={root}/seed{{seed}}/ref.json',
                    '--json', str(root / 'table.json'))
        assert proc.returncode == 0, proc.stderr
        out[pct] = root / 'table.json'
    return out


def test_table_and_paired_differences_match_a_hand_computation(tables, tmp_path):
    out = tmp_path / 'sweep'
    proc = _run('label_efficiency_table.py', '--table', f'50={tables[50]}',
                '--table', f'10={tables[10]}', '--paired', 'refined', 'MTL', '--out', str(out))
    assert proc.returncode == 0, proc.stderr
    md = (out / 'label_efficiency.md').read_text()
    lines = md.splitlines()
    # fractions in increasing order whatever the argument order; single-task rows first
    assert lines[2] == '| single-task (same labels) | 10 | 20.00 ± 0.00 | 1.0000 ± 0.0000 | – | – |'
    assert lines[3] == '| single-task (same labels) | 50 | 41.00 ± 1.00 | 0.4500 ± 0.0500 | – | – |'
    # MTL: -10 % on both -> Δm -10; refined: +10 % semseg, equal depth -> Δm +5
    assert lines[4] == ('| MTL | 10 | 18.00 ± 0.00 | 1.1000 ± 0.0000 | -10.00 ± 0.00 | '
                        '-10.00, -10.00 |')
    assert lines[7] == ('| refined | 50 | 45.10 ± 1.10 | 0.4500 ± 0.0500 | 5.00 ± 0.00 | '
                        '5.00, 5.00 |')
    # refined − MTL at 50 %: semseg 0.2 × (40, 42) = 8, 8.4; depth -0.1 × (0.5, 0.4)
    assert ('| refined − MTL | 50 | 8.20 ± 0.20 | -0.0450 ± 0.0050 | +15.00 ± 0.00 | '
            '+15.00, +15.00 | 2/2 |') in md
    assert '| refined − MTL | 10 | 4.00 ± 0.00 |' in md
    assert proc.stdout.startswith(md)
    assert (out / 'label_efficiency.png').stat().st_size > 10_000


def test_tables_that_do_not_match_are_refused_naming_the_file(tables, tmp_path):
    other = json.loads(tables[50].read_text())
    other['rows'] = ['MTL', 'control']
    bad = tmp_path / 'bad.json'
    bad.write_text(json.dumps(other))
    proc = _run('label_efficiency_table.py', '--table', f'10={tables[10]}', '--table',
                f'50={bad}', '--out', str(tmp_path / 'o'))
    assert proc.returncode != 0
    assert f"{bad} and {tables[10]} have other rows: only in {bad}: ['control']" in proc.stderr
    other = json.loads(tables[50].read_text())
    other['tasks'] = ['semseg']
    bad.write_text(json.dumps(other))
    proc = _run('label_efficiency_table.py', '--table', f'10={tables[10]}', '--table',
                f'50={bad}', '--out', str(tmp_path / 'o'))
    assert proc.returncode != 0 and f"{bad} has the tasks ['semseg']" in proc.stderr
    bad.write_text('{"rows": []}')
    proc = _run('label_efficiency_table.py', '--table', f'10={bad}', '--out', str(tmp_path / 'o'))
    assert proc.returncode != 0 and 'delta_m_table.py --json' in proc.stderr


@pytest.mark.parametrize('args, message', [
    (['--table', '0=x.json'], '0 < PERCENT <= 100'),
    (['--table', 'ten=x.json'], 'PERCENT=JSON'),
    (['--table', '10'], 'PERCENT=JSON'),
])
def test_bad_arguments_are_refused(tmp_path, args, message):
    proc = _run('label_efficiency_table.py', *args, '--out', str(tmp_path / 'o'))
    assert proc.returncode == 2 and message in proc.stderr


def test_a_fraction_twice_and_an_unknown_paired_row_are_refused(tables, tmp_path):
    proc = _run('label_efficiency_table.py', '--table', f'10={tables[10]}', '--table',
                f'10={tables[50]}', '--out', str(tmp_path / 'o'))
    assert proc.returncode == 2 and '--table names 10% twice' in proc.stderr
    proc = _run('label_efficiency_table.py', '--table', f'10={tables[10]}', '--paired',
                'refined', 'control', '--out', str(tmp_path / 'o'))
    assert proc.returncode == 2 and "--paired: 'control' is no row: [" in proc.stderr


def test_paired_rows_by_the_start_of_their_label(tables, tmp_path):
    out = tmp_path / 'o'
    proc = _run('label_efficiency_table.py', '--table', f'10={tables[10]}', '--paired',
                'ref', 'MT', '--out', str(out))
    assert proc.returncode == 0, proc.stderr
    assert '| refined − MTL | 10 | 4.00 ± 0.00 |' in proc.stdout
    proc = _run('label_efficiency_table.py', '--table', f'10={tables[10]}', '--paired',
                'refined', '', '--out', str(out))
    assert proc.returncode == 2 and "'' is the start of several rows" in proc.stderr


def test_a_tables_dir_keeps_each_fraction_and_a_later_run_joins_them(tables, tmp_path):
    kept = tmp_path / 'kept'
    proc = _run('label_efficiency_table.py', '--table', f'10={tables[10]}', '--tables-dir',
                str(kept), '--out', str(tmp_path / 'first'))
    assert proc.returncode == 0, proc.stderr
    assert sorted(os.listdir(kept)) == ['frac10.json']
    assert (kept / 'frac10.json').read_text() == tables[10].read_text()
    assert 'Kept in' not in proc.stdout  # nothing came from the folder alone
    # a later run (another machine: only the folder travels) adds 50 %
    proc = _run('label_efficiency_table.py', '--table', f'50={tables[50]}', '--paired', 'refined',
                'MTL', '--tables-dir', str(kept), '--out', str(tmp_path / 'second'))
    assert proc.returncode == 0, proc.stderr
    assert sorted(os.listdir(kept)) == ['frac10.json', 'frac50.json']
    md = (tmp_path / 'second' / 'label_efficiency.md').read_text()
    assert md.startswith(f'Kept in {kept} from an earlier run: the 10 % fraction table(s).\n\n')
    # the kept 10 % table gives the same values as when it was given by --table
    assert '| single-task (same labels) | 10 | 20.00 ± 0.00 | 1.0000 ± 0.0000 | – | – |' in md
    assert '| refined − MTL | 10 | 4.00 ± 0.00 |' in md
    assert ('| refined − MTL | 50 | 8.20 ± 0.20 | -0.0450 ± 0.0050 | +15.00 ± 0.00 | '
            '+15.00, +15.00 | 2/2 |') in md
    # the folder alone rebuilds the sweep
    proc = _run('label_efficiency_table.py', '--tables-dir', str(kept), '--out',
                str(tmp_path / 'third'))
    assert proc.returncode == 0, proc.stderr
    assert 'the 10 %, 50 % fraction table(s)' in proc.stdout


def test_a_table_that_does_not_match_the_kept_ones_is_refused_and_not_kept(tables, tmp_path):
    kept = tmp_path / 'kept'
    kept.mkdir()
    (kept / 'frac10.json').write_text(tables[10].read_text())
    other = json.loads(tables[50].read_text())
    other['seeds'] = [0, 1, 2]
    bad = tmp_path / 'bad.json'
    bad.write_text(json.dumps(other))
    proc = _run('label_efficiency_table.py', '--table', f'50={bad}', '--tables-dir', str(kept),
                '--out', str(tmp_path / 'o'))
    assert proc.returncode != 0
    assert f'{bad} has the seeds [0, 1, 2], {kept}/frac10.json has [0, 1]' in proc.stderr
    assert sorted(os.listdir(kept)) == ['frac10.json']
    # a new table of a kept fraction replaces it, once it matches the others
    proc = _run('label_efficiency_table.py', '--table', f'10={bad}', '--tables-dir', str(kept),
                '--out', str(tmp_path / 'o'))
    assert proc.returncode == 0, proc.stderr
    assert json.loads((kept / 'frac10.json').read_text())['seeds'] == [0, 1, 2]


def test_no_table_at_all_is_refused(tmp_path):
    proc = _run('label_efficiency_table.py', '--tables-dir', str(tmp_path / 'empty'), '--out',
                str(tmp_path / 'o'))
    assert proc.returncode == 2 and 'holds none' in proc.stderr
    assert not (tmp_path / 'empty').exists()
    proc = _run('label_efficiency_table.py', '--out', str(tmp_path / 'o'))
    assert proc.returncode == 2 and 'no table' in proc.stderr
    (tmp_path / 'kept').mkdir()
    (tmp_path / 'kept' / 'frac150.json').write_text('{}')
    proc = _run('label_efficiency_table.py', '--tables-dir', str(tmp_path / 'kept'), '--out',
                str(tmp_path / 'o'))
    assert proc.returncode != 0
    assert f'{tmp_path}/kept/frac150.json: 150 is not a percentage in (0, 100]' in proc.stderr


def test_every_kept_fraction_is_read_by_the_runners_naming_rule(tables, tmp_path):
    """A kept table is never silently skipped or shadowed: a tiny fraction's
    exponent name is read, and a second name for a kept fraction is refused,
    naming the file."""
    kept = tmp_path / 'kept'
    kept.mkdir()
    (kept / 'frac10.json').write_text(tables[10].read_text())
    (kept / 'frac1e-05.json').write_text(tables[10].read_text())  # as keep() names 1e-05 %
    (kept / 'notes.json').write_text('{}')  # not a kept table: not read
    proc = _run('label_efficiency_table.py', '--tables-dir', str(kept), '--out',
                str(tmp_path / 'o'))
    assert proc.returncode == 0, proc.stderr
    fractions = [line.split(' | ')[1] for line in
                 (tmp_path / 'o' / 'label_efficiency.md').read_text().splitlines()
                 if line.startswith('| single-task')]
    assert fractions == ['1e-05', '10']
    (kept / 'frac10.0.json').write_text(tables[50].read_text())
    proc = _run('label_efficiency_table.py', '--tables-dir', str(kept), '--out',
                str(tmp_path / 'o'))
    assert proc.returncode != 0
    assert (f'{kept}/frac10.0.json: the 10 % table is kept as frac10.json; rename it'
            in proc.stderr)
