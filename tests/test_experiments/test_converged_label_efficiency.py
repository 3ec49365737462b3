"""tools/experiments/converged_label_efficiency.sh: converged_first_stage.sh
per label fraction, then the sweep table over their Δm tables (dry run)."""
import os
import os.path as osp
import subprocess

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRIPT = osp.join(ROOT, 'tools', 'experiments', 'converged_label_efficiency.sh')


def _dry_run(tmp_path, **env):
    return subprocess.run(['bash', SCRIPT], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, DRY_RUN='1', OUT=str(tmp_path), SEEDS='0', **env))


def test_each_fraction_then_the_sweep_over_the_tables_it_wrote(tmp_path):
    proc = _dry_run(tmp_path, FRACTIONS='10 50', STAGE_ITERS='2000', LONG_ITERS='3000')
    assert proc.returncode == 0, proc.stderr
    steps = [line[3:] for line in proc.stdout.splitlines() if line.startswith('== ')]
    tables = [s for s in steps if s.startswith('table:')]
    assert len(tables) == 2
    assert '--splits frac10 ' in tables[0] and '--splits frac50 ' in tables[1]
    # the settings reach converged_first_stage.sh
    assert any(s.startswith('mtl_3000_seed0:') for s in steps)
    written = [s.split('--json ')[1] for s in steps if s.startswith('delta_m_table:')]
    assert written == [f'{tmp_path}/converged_frac{p}/stage2000/delta_m_table.json'
                       for p in (10, 50)]
    sweep = steps[-1]
    assert sweep.startswith('label_efficiency: ')
    assert f'--table 10={written[0]} --table 50={written[1]}' in sweep
    assert f'--tables-dir {tmp_path}/label_efficiency_converged_stage2000/tables ' in sweep
    assert ('--paired stage-wise refinement MTL baseline --paired stage-wise refinement control '
            '--paired stage-wise, per-task output chosen control') in sweep
    assert sweep.endswith(f'--out {tmp_path}/label_efficiency_converged_stage2000')


def test_default_stage_iters_and_a_control_free_method_list(tmp_path):
    proc = _dry_run(tmp_path, FRACTIONS='25', METHODS='stagewise')
    assert proc.returncode == 0, proc.stderr
    sweep = proc.stdout.splitlines()[-1]
    assert f'--table 25={tmp_path}/converged_frac25/delta_m_table.json' in sweep
    assert 'control' not in sweep and '--paired stage-wise refinement MTL baseline' in sweep
    assert sweep.endswith(f'--out {tmp_path}/label_efficiency_converged')


def test_fractions_kept_elsewhere_and_a_fraction_below_one_percent(tmp_path):
    proc = _dry_run(tmp_path, FRACTIONS='0.5', TABLES_DIR='results/kept')
    assert proc.returncode == 0, proc.stderr
    assert '--splits frac0.5 ' in proc.stdout
    assert '--tables-dir results/kept ' in proc.stdout.splitlines()[-1]


@pytest.mark.parametrize('bad', ['half', '0', '0.0', '150', '1.2.3', '.'])
def test_a_fraction_that_is_not_a_percentage_is_refused(tmp_path, bad):
    proc = _dry_run(tmp_path, FRACTIONS=f'10 {bad}')
    assert proc.returncode == 2
    assert f'FRACTIONS: {bad} is not a percentage in (0, 100]' in proc.stderr
    assert '--splits frac10' not in proc.stdout  # refused before any run
