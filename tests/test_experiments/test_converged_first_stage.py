"""tools/experiments/converged_first_stage.sh: every step, in order, with
the settings from the environment (dry run)."""
import os
import os.path as osp
import subprocess

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRIPT = osp.join(ROOT, 'tools', 'experiments', 'converged_first_stage.sh')


def _dry_run(tmp_path, **env):
    proc = subprocess.run(['bash', SCRIPT], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, DRY_RUN='1', OUT=str(tmp_path), **env))
    assert proc.returncode == 0, proc.stderr
    return [line[3:] for line in proc.stdout.splitlines() if line.startswith('== ')]


def test_steps_in_order_with_the_environment_settings(tmp_path):
    steps = _dry_run(tmp_path, SEEDS='0 1', ITERS='600', LONG_ITERS='2400', JOBS='3')
    names = [s.split(':')[0] for s in steps]
    assert names == ['table',
                     'mtl_2400_seed0', 'stagewise_seed0', 'mtl_finetune_seed0', 'refinement_seed0',
                     'mtl_2400_seed1', 'stagewise_seed1', 'mtl_finetune_seed1', 'refinement_seed1',
                     'refinement', 'delta_m_table',
                     f'all done in 0 min; results under {tmp_path}/converged']
    table = steps[0]
    assert '--iters 600 --jobs 3' in table and '--seeds 0 1 ' in table
    assert '--methods mtl stagewise mtl_finetune' in table and '--protocol pretrained' in table
    c = f'{tmp_path}/converged'
    assert f'mmdmtl.experiments.worker {c}/mtl_seed1.py {c}/mtl_seed1/test_metrics.json' in steps[5]
    assert f'analyze_refinement.py {c}/stagewise_seed0.py {c}/stagewise_seed0/best_' in steps[4]
    assert f'--summarize {c}/refine/seed0 {c}/refine/seed1 --out {c}/refinement' in steps[9]
    last = steps[10]
    assert f'--stl {tmp_path}/runs/onelabel/seed{{seed}}/stl_*/test_metrics.json' in last
    assert 'stage-wise refinement (+300 iterations)' in last and 'MTL baseline, 2400 iter' in last


def test_finished_runs_are_not_run_again(tmp_path):
    done = tmp_path / 'converged' / 'mtl_seed0'
    done.mkdir(parents=True)
    (done / 'test_metrics.json').write_text('{}')
    names = [s.split(':')[0] for s in _dry_run(tmp_path, SEEDS='0')]
    assert 'mtl_4000_seed0' not in names and 'stagewise_seed0' in names
