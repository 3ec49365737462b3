"""tools/experiments/converged_label_efficiency.sh: converged_first_stage.sh
per label fraction, then the sweep table over their Δm tables (dry run)."""
import importlib.util
import os
import os.path as osp
import re
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


def test_fractions_are_named_as_the_runner_files_them(tmp_path):
    proc = _dry_run(tmp_path, FRACTIONS='10.0 5e1', STAGE_ITERS='2000')
    assert proc.returncode == 0, proc.stderr
    assert '--splits frac10 ' in proc.stdout and '--splits frac50 ' in proc.stdout
    assert 'frac10.0' not in proc.stdout and 'frac5e1' not in proc.stdout
    sweep = proc.stdout.splitlines()[-1]
    assert (f'--table 10={tmp_path}/converged_frac10/stage2000/delta_m_table.json '
            f'--table 50={tmp_path}/converged_frac50/stage2000/delta_m_table.json') in sweep


@pytest.mark.parametrize('fractions, message', [
    ('10 half', 'FRACTIONS: half is not a percentage in (0, 100]'),
    ('10 50 50.0', 'FRACTIONS: 50.0 is the fraction 50 again')])
def test_a_fraction_the_runner_would_not_take_is_refused_before_any_run(tmp_path, fractions,
                                                                         message):
    proc = _dry_run(tmp_path, FRACTIONS=fractions)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert '--splits' not in proc.stdout


def _label_fractions():
    spec = importlib.util.spec_from_file_location(
        'label_fractions', osp.join(ROOT, 'tools', 'experiments', 'label_fractions.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def test_label_fractions_names_each_as_the_runner_does(capsys):
    tool = _label_fractions()
    assert tool.canonical_fractions(['5', '10.0', '5e1', '012.50', '100']) == \
        ['5', '10', '50', '12.5', '100']
    tool.main(['25.0', '0.5'])
    assert capsys.readouterr().out == '25 0.5\n'


@pytest.mark.parametrize('bad', ['half', '0', '0.0', '150', '1.2.3', '.', '-5', 'nan', 'inf', ''])
def test_label_fractions_refuses_what_is_not_a_percentage(capsys, bad):
    tool = _label_fractions()
    with pytest.raises(ValueError, match=rf'^{re.escape(bad)} is not a percentage in \(0, 100\]$'):
        tool.canonical_fractions(['10', bad])
    with pytest.raises(SystemExit) as e:
        tool.main(['10', bad])
    assert e.value.code == 2
    err = capsys.readouterr()
    assert f'label_fractions.py: FRACTIONS: {bad} is not a percentage' in err.err
    assert err.out == ''


def test_label_fractions_refuses_a_repeat_and_nothing(capsys):
    tool = _label_fractions()
    with pytest.raises(ValueError, match='^100.0 is the fraction 100 again$'):
        tool.canonical_fractions(['100', '10', '100.0'])
    with pytest.raises(SystemExit) as e:
        tool.main([])
    assert e.value.code == 2
    assert 'FRACTIONS: no fraction given' in capsys.readouterr().err
