"""tools/experiments/converged_first_stage.sh: every step, in order, with
the settings from the environment (dry run)."""
import glob
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRIPT = osp.join(ROOT, 'tools', 'experiments', 'converged_first_stage.sh')


def _dry_run(tmp_path, with_configs=False, **env):
    """The steps of a dry run (and ``{file: text}`` of the configs it would
    write, with ``with_configs``)."""
    proc = subprocess.run(['bash', SCRIPT], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, DRY_RUN='1', OUT=str(tmp_path), **env))
    assert proc.returncode == 0, proc.stderr
    steps = [line[3:] for line in proc.stdout.splitlines() if line.startswith('== ')]
    if not with_configs:
        return steps
    configs = {}
    for line in proc.stdout.splitlines():
        if line.startswith('-- '):
            path, text = line[3:].split(': ', 1)
            configs[path] = configs.get(path, '') + text + '\n'
    return steps, configs


def test_steps_in_order_with_the_environment_settings(tmp_path):
    steps = _dry_run(tmp_path, SEEDS='0 1', ITERS='600', LONG_ITERS='2400', JOBS='3')
    names = [s.split(':')[0] for s in steps]
    # the job queue's order: long baselines, staged runs, analyses
    assert names == ['table', 'mtl_2400_seed0', 'mtl_2400_seed1',
                     'stagewise_seed0', 'mtl_finetune_seed0',
                     'stagewise_seed1', 'mtl_finetune_seed1',
                     'refinement_seed0', 'choice_seed0', 'refinement_seed1', 'choice_seed1',
                     'refinement', 'delta_m_table',
                     f'all done in 0 min; results under {tmp_path}/converged']
    table = steps[0]
    assert '--iters 600 --jobs 3' in table and '--seeds 0 1 ' in table
    assert '--methods mtl stagewise mtl_finetune' in table and '--protocol pretrained' in table
    c = f'{tmp_path}/converged'
    assert f'mmdmtl.experiments.worker {c}/mtl_seed1.py {c}/mtl_seed1/test_metrics.json' in steps[2]
    assert f'analyze_refinement.py {c}/stagewise_seed0.py {c}/stagewise_seed0/best_' in steps[7]
    assert steps[7].endswith(f'--disc-width 1 --out {c}/refine/seed0')
    assert steps[8].endswith(f'--split val --test-choice --out {c}/refine_val/seed0')
    assert f'--summarize {c}/refine/seed0 {c}/refine/seed1 --out {c}/refinement' in steps[11]
    last = steps[12]
    assert f'on validation={c}/refine_val/seed{{seed}}/test_metrics_choice.json' in last
    assert f'--stl {tmp_path}/runs/onelabel/seed{{seed}}/stl_*/test_metrics.json' in last
    assert 'stage-wise refinement (+300 iterations)' in last and 'MTL baseline, 2400 iter' in last
    assert '--splits onelabel ' in table and f'--out {tmp_path}/table_staged_onelabel' in table


def test_default_staged_runs_keep_their_protocol_config(tmp_path):
    """Without STAGE_ITERS, a staged run is its step-1 config with another
    start: the results of the default stay reproducible."""
    _, configs = _dry_run(tmp_path, with_configs=True, SEEDS='0')
    c = f'{tmp_path}/converged'
    text = configs[f'{c}/stagewise_seed0.py']
    assert text == (f"_base_ = ['{tmp_path}/runs/onelabel/seed0/stagewise/run_config.py']\n"
                    f"load_from = '{c}/mtl_seed0/best_mtl_delta_m_iter_N.pth'\n"
                    f"work_dir = '{c}/stagewise_seed0'\n")
    assert 'max_iters=4000, val_interval=500' in configs[f'{c}/mtl_seed0.py']


def test_stage_iters_trains_the_staged_runs_longer_in_their_own_folder(tmp_path):
    steps, configs = _dry_run(tmp_path, with_configs=True, SEEDS='0', STAGE_ITERS='2000',
                              STAGE_VAL_EVALS='5')
    c = f'{tmp_path}/converged'
    s = f'{c}/stage2000'
    names = [step.split(':')[0] for step in steps]
    assert names[1:6] == ['mtl_4000_seed0', 'stagewise_seed0', 'mtl_finetune_seed0',
                          'refinement_seed0', 'choice_seed0']
    # the long baseline is shared with the default's results; the staged runs are not
    assert f'worker {c}/mtl_seed0.py {c}/mtl_seed0/test_metrics.json' in steps[1]
    assert f'worker {s}/stagewise_seed0.py {s}/stagewise_seed0/test_metrics.json' in steps[2]
    assert f'worker {s}/mtl_finetune_seed0.py' in steps[3]
    assert steps[5].endswith(f'--split val --test-choice --out {s}/refine_val/seed0')
    assert f'--summarize {s}/refine/seed0 --out {s}/refinement' in steps[6]
    assert 'stage-wise refinement (+2000 iterations)' in steps[7]
    assert f'control: head fine-tuning (+2000 iterations)={s}/mtl_finetune_seed{{seed}}' in steps[7]
    assert f'MTL baseline, 4000 iterations={c}/mtl_seed{{seed}}' in steps[7]
    assert steps[7].endswith(f'--out {s}/delta_m_table.md --json {s}/delta_m_table.json')
    for method in ('stagewise', 'mtl_finetune'):
        text = configs[f'{s}/{method}_seed0.py']
        assert f"load_from = '{c}/mtl_seed0/best_mtl_delta_m_iter_N.pth'" in text
        assert 'train_cfg = dict(max_iters=2000, val_interval=400)' in text
        assert "dict(type='PolyLR', begin=0, end=2000," in text
        assert text.endswith(f"work_dir = '{s}/{method}_seed0'\n")
    # the long baseline's validations are VAL_EVALS', not STAGE_VAL_EVALS'
    assert 'max_iters=4000, val_interval=500' in configs[f'{c}/mtl_seed0.py']


def test_more_staged_methods_get_runs_analyses_and_table_rows(tmp_path):
    """METHODS adds the feature variant and ablations of the stage-wise
    method: step 1 trains them, step 3 continues each from the long
    baseline, each refinement gets its analyses in its own folders and its
    rows in the table; stagewise's steps and folders keep their names."""
    steps, configs = _dry_run(tmp_path, with_configs=True, SEEDS='0 1', STAGE_ITERS='2000',
                              METHODS='stagewise mtl_finetune stagewise_feat stagewise_no_diff')
    c = f'{tmp_path}/converged'
    s = f'{c}/stage2000'
    names = [step.split(':')[0] for step in steps]
    assert names[1:13] == ['mtl_4000_seed0', 'mtl_4000_seed1',
                           'stagewise_seed0', 'mtl_finetune_seed0',
                           'stagewise_feat_seed0', 'stagewise_no_diff_seed0',
                           'stagewise_seed1', 'mtl_finetune_seed1',
                           'stagewise_feat_seed1', 'stagewise_no_diff_seed1',
                           'refinement_seed0', 'choice_seed0']
    assert names[13:17] == ['refinement_stagewise_feat_seed0', 'choice_stagewise_feat_seed0',
                            'refinement_stagewise_no_diff_seed0', 'choice_stagewise_no_diff_seed0']
    assert names[-5:-1] == ['refinement', 'refinement_stagewise_feat',
                            'refinement_stagewise_no_diff', 'delta_m_table']
    assert '--methods mtl stagewise mtl_finetune stagewise_feat stagewise_no_diff --out' in steps[0]
    text = configs[f'{s}/stagewise_feat_seed1.py']
    assert text.startswith(
        f"_base_ = ['{tmp_path}/runs/onelabel/seed1/stagewise_feat/run_config.py']\n"
        f"load_from = '{c}/mtl_seed1/best_mtl_delta_m_iter_N.pth'\n")
    assert 'max_iters=2000, val_interval=250' in text  # VAL_EVALS (8) validations
    assert text.endswith(f"work_dir = '{s}/stagewise_feat_seed1'\n")
    (feat,) = [x for x in steps if x.startswith('refinement_stagewise_feat_seed1:')]
    assert feat.endswith(f'--disc-width 1 --out {s}/refine_stagewise_feat/seed1')
    assert (f'analyze_refinement.py {s}/stagewise_feat_seed1.py '
            f'{s}/stagewise_feat_seed1/best_') in feat
    (choice,) = [x for x in steps if x.startswith('choice_stagewise_no_diff_seed0:')]
    assert choice.endswith('--split val --test-choice '
                           f'--out {s}/refine_val_stagewise_no_diff/seed0')
    (summary,) = [x for x in steps if x.startswith('refinement_stagewise_no_diff:')]
    assert summary.endswith(f'--summarize {s}/refine_stagewise_no_diff/seed0 '
                            f'{s}/refine_stagewise_no_diff/seed1 '
                            f'--out {s}/refinement_stagewise_no_diff')
    table = steps[-2]
    rows = ['MTL baseline, 4000 iterations', 'stage-wise refinement (+2000 iterations)',
            'stage-wise, per-task output chosen on validation',
            'control: head fine-tuning (+2000 iterations)',
            'DiffusionMTL (stage-wise, feature variant) (+2000 iterations)='
            f'{s}/stagewise_feat_seed',
            'DiffusionMTL (stage-wise, feature variant), per-task output chosen on validation='
            f'{s}/refine_val_stagewise_feat/seed{{seed}}/test_metrics_choice.json',
            f'stage-wise w/o diffusion (+2000 iterations)={s}/stagewise_no_diff_seed',
            'stage-wise w/o diffusion, per-task output chosen on validation']
    at = [table.index(r) for r in rows]
    assert at == sorted(at)


def test_a_control_alone_gets_no_refinement_analysis(tmp_path):
    steps = _dry_run(tmp_path, SEEDS='0', METHODS='mtl_finetune')
    names = [step.split(':')[0] for step in steps]
    assert names[1:] == ['mtl_4000_seed0', 'mtl_finetune_seed0', 'delta_m_table',
                         f'all done in 0 min; results under {tmp_path}/converged']
    assert 'stage-wise' not in steps[-2] and 'control: head fine-tuning (+500' in steps[-2]


@pytest.mark.parametrize('env,message', [
    (dict(METHODS='stagewise mtl'), "METHODS: mtl is not a staged method on the MTL baseline"),
    (dict(METHODS='stagewise nosuch'), "METHODS: unknown method 'nosuch'"),
    (dict(SPLIT='twolabels'),
     "SPLIT: label setting 'twolabels': expected onelabel, randomlabels, full"),
    (dict(SPLIT='frac0'), "SPLIT: label setting 'frac0': percent must be in (0, 100]")])
def test_bad_methods_and_label_settings_are_refused_before_any_step(tmp_path, env, message):
    proc = subprocess.run(['bash', SCRIPT], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, DRY_RUN='1', OUT=str(tmp_path), **env))
    assert proc.returncode != 0 and f'converged_first_stage.sh: {message}' in proc.stderr
    assert '== ' not in proc.stdout


def test_another_label_setting_gets_its_own_folders(tmp_path):
    steps = _dry_run(tmp_path, SEEDS='1', SPLIT='randomlabels')
    assert '--splits randomlabels ' in steps[0]
    c = f'{tmp_path}/converged_randomlabels'
    assert f'worker {c}/stagewise_seed1.py' in steps[2]
    assert f'--stl {tmp_path}/runs/randomlabels/seed{{seed}}/stl_' in steps[-2]


def test_a_label_setting_is_filed_under_the_runners_name(tmp_path):
    steps = _dry_run(tmp_path, SEEDS='0', SPLIT='frac50.0')
    assert '--splits frac50 ' in steps[0]
    assert steps[0].endswith(f'--out {tmp_path}/table_staged_frac50')
    assert f'worker {tmp_path}/converged_frac50/stagewise_seed0.py' in steps[2]
    assert 'frac50.0' not in '\n'.join(steps)


def test_no_discontinuity_split_without_depth_or_normals(tmp_path):
    steps = _dry_run(tmp_path, SEEDS='0', TASKS='semseg edge')
    (analysis,) = [s for s in steps if s.startswith('refinement_seed0')]
    assert '--disc-width' not in analysis and '--tasks semseg edge ' in steps[0]


def test_finished_runs_are_not_run_again(tmp_path):
    done = tmp_path / 'converged' / 'mtl_seed0'
    done.mkdir(parents=True)
    (done / 'test_metrics.json').write_text('{}')
    analysed = tmp_path / 'converged' / 'refine' / 'seed0'
    analysed.mkdir(parents=True)
    (analysed / 'refinement.json').write_text('{}')
    names = [s.split(':')[0] for s in _dry_run(tmp_path, SEEDS='0')]
    assert 'mtl_4000_seed0' not in names and 'stagewise_seed0' in names
    assert 'refinement_seed0' not in names and 'choice_seed0' in names


@pytest.mark.slow
def test_real_run_on_the_tiny_config(tmp_path):
    """The whole script on the tiny config (2-iteration protocol runs, a
    4-iteration long baseline): the staged runs start from the long
    baseline's best checkpoint, and the analysis and table are written."""
    tiny = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_synthetic.py')
    syn = str(tmp_path / 'syn')
    extra = f'--config {tiny} --num-test 4 --val-evals 2 --cfg-options ' + ' '.join(
        f'{k}.dataset.data_root={syn}' for k in ('train', 'val', 'test'))
    env = dict(os.environ, OUT=str(tmp_path), ITERS='2', LONG_ITERS='4', VAL_EVALS='2',
               SEEDS='0', PRETRAIN_ITERS='2', TASKS='semseg depth', EXTRA=extra,
               MPLBACKEND='Agg', METHODS='stagewise mtl_finetune stagewise_feat')
    proc = subprocess.run(['bash', SCRIPT], capture_output=True, text=True, timeout=900, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    c = tmp_path / 'converged'
    long = json.loads((c / 'mtl_seed0' / 'test_metrics.json').read_text())
    assert long['checkpoint_iter'] in (2.0, 4.0)
    best = glob.glob(str(c / 'mtl_seed0' / 'best_*.pth'))
    assert len(best) == 1
    for method in ('stagewise', 'mtl_finetune', 'stagewise_feat'):
        log = ''.join(open(p).read() for p in glob.glob(str(c / f'{method}_seed0' / '*' / '*.log')))
        assert f'Load checkpoint from {best[0]}' in log, method
        assert (c / f'{method}_seed0' / 'test_metrics.json').is_file()
    # step 1's staged runs start from the protocol MTL run and keep what they freeze
    seed = tmp_path / 'runs' / 'onelabel' / 'seed0'
    (parent,) = glob.glob(str(seed / 'mtl' / 'best_*.pth'))

    def state(path):
        return torch.load(path, map_location='cpu', weights_only=False)['state_dict']

    base = state(parent)
    for method in ('stagewise', 'mtl_finetune', 'stagewise_feat'):
        log = ''.join(open(p).read() for p in glob.glob(str(seed / method / '*' / '*.log')))
        assert f'Load checkpoint from {parent}' in log, method
        new = state(str(seed / method / 'iter_1.pth'))  # half of ITERS=2
        backbone = [k for k in base if k.startswith('backbone.')]
        assert backbone and all(torch.equal(base[k], new[k]) for k in backbone), method
        head = [k for k in base if k.startswith('decode_head.') and base[k].is_floating_point()]
        changed = [k for k in head if not torch.equal(base[k], new[k])]
        if method != 'mtl_finetune':  # first stage frozen (weights, statistics); the chain learned
            assert changed == []
            extra = [k for k in new if k not in base and new[k].is_floating_point()]
            assert any(new[k].abs().sum() > 0 for k in extra)
        else:  # the control fine-tunes the baseline's own head
            assert changed
    summary = json.loads((c / 'refinement' / 'refinement_summary.json').read_text())
    assert summary
    table = (c / 'delta_m_table.md').read_text()
    values = json.loads((c / 'delta_m_table.json').read_text())
    assert values['rows'][0] == 'MTL baseline, 4 iterations' and len(values['records']) == 6
    assert values['single_task'][0]['seed'] == 0 and values['tasks'] == ['semseg', 'depth']
    choice = json.loads((c / 'refine_val' / 'seed0' / 'output_choice.json').read_text())
    assert set(choice) == {'semseg', 'depth'}
    assert (c / 'refine_val' / 'seed0' / 'test_metrics_choice.json').is_file()
    for row in ('MTL baseline, 4 iterations', 'stage-wise refinement (+1 iterations)',
                'stage-wise, per-task output chosen on validation',
                'control: head fine-tuning (+1 iterations)',
                'DiffusionMTL (stage-wise, feature variant) (+1 iterations)',
                'DiffusionMTL (stage-wise, feature variant), per-task output chosen on validation'):
        assert f'| {row} |' in table
    # the feature variant's analyses, in their own folders
    feat = json.loads((c / 'refinement_stagewise_feat' / 'refinement_summary.json').read_text())
    assert feat and feat != summary
    assert (c / 'refine_val_stagewise_feat' / 'seed0' / 'test_metrics_choice.json').is_file()


FAKE_PYTHON = r'''#!/usr/bin/env bash
# Stands in for python: logs "start|end JOB TIME"; a worker or analysis
# sleeps, then writes what the real one writes; a worker whose config path
# contains $FAIL fails. The script's own checks (python -c) run in the real
# interpreter.
[ "$1" = -c ] && exec "$REAL_PYTHON" "$@"
job="$*"
case "$*" in
  *mmdmtl.experiments.worker*) job=$(basename "$3" .py) ;;
  *analyze_refinement.py*) job="analysis ${*: -1}" ;;
esac
echo "start $job $(date +%s.%N)" >> "$FAKE_LOG"
case "$*" in
  *mmdmtl.experiments.worker*)
    sleep "${FAKE_SLEEP:-0.5}"
    [ -n "$FAIL" ] && [[ "$3" == *"$FAIL"* ]] && { echo "fake failure of $3" >&2; exit 3; }
    mkdir -p "$(dirname "$4")"
    touch "$(dirname "$4")/best_mtl_delta_m_iter_1.pth"
    echo '{}' > "$4" ;;
  *analyze_refinement.py*)
    sleep 0.5
    out=${*: -1}
    mkdir -p "$out"
    touch "$out/refinement.json" "$out/test_metrics_choice.json" ;;
esac
echo "end $job $(date +%s.%N)" >> "$FAKE_LOG"
'''


def _queued_run(tmp_path, **env):
    """The script with JOBS=2 on a fake interpreter: its result and the
    jobs' ``{name: (start, end)}`` times."""
    fake = tmp_path / 'fake_python'
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    log = tmp_path / 'jobs.log'
    proc = subprocess.run(['bash', SCRIPT], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, OUT=str(tmp_path / 'out'), PYTHON=str(fake),
                                   FAKE_LOG=str(log), REAL_PYTHON=sys.executable,
                                   JOBS='2', SEEDS='0 1 2',
                                   **{'FAIL': '', **env}))
    times = {}
    for line in log.read_text().splitlines():
        kind, rest = line.split(' ', 1)
        name, t = rest.rsplit(' ', 1)
        times.setdefault(name, [None, None])[kind == 'end'] = float(t)
    return proc, times


def test_steps_2_to_4_run_jobs_at_a_time_each_after_the_job_it_needs(tmp_path):
    proc, times = _queued_run(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = tmp_path / 'out' / 'converged'
    summary = times.pop(f'analysis {out}/refinement')
    jobs = {n: t for n, t in times.items() if not n.startswith('tools/')}
    assert len(jobs) == 3 + 6 + 6  # long baselines, staged runs, analyses
    # never more than JOBS at once, and two at once for most of the run
    edges = sorted([(t[0], 1) for t in jobs.values()] + [(t[1], -1) for t in jobs.values()])
    running = peak = 0
    for _, d in edges:
        running += d
        peak = max(peak, running)
    assert peak == 2
    total = max(t[1] for t in jobs.values()) - min(t[0] for t in jobs.values())
    busy = sum(t[1] - t[0] for t in jobs.values())
    assert busy / total > 1.5, (busy, total)
    for seed in range(3):
        long = jobs[f'mtl_seed{seed}']
        for method in ('stagewise', 'mtl_finetune'):
            assert jobs[f'{method}_seed{seed}'][0] >= long[1]
        for r in (f'refine/seed{seed}', f'refine_val/seed{seed}'):
            assert jobs[f'analysis {out}/{r}'][0] >= jobs[f'stagewise_seed{seed}'][1]
        assert (out / 'logs' / f'stagewise_seed{seed}.log').read_text().startswith(
            f'== stagewise_seed{seed}: ')
    # the summary and table come after every job
    assert summary[0] >= max(t[1] for t in jobs.values())


def test_a_failed_job_stops_its_dependants_and_fails_the_script(tmp_path):
    proc, times = _queued_run(tmp_path, FAIL='mtl_seed1')
    assert proc.returncode == 1
    assert 'converged_first_stage.sh: 1 job(s) failed: mtl_4000_seed1' in proc.stderr
    assert 'fake failure of' in proc.stdout  # the end of its log is printed
    assert 'stagewise_seed1: not started, mtl_4000_seed1 failed' in proc.stdout
    # the other seeds went on; nothing of seed 1 after its baseline, and no table
    assert 'stagewise_seed0' in times and 'mtl_finetune_seed2' in times
    assert not [n for n in times if n.endswith('_seed1') and n != 'mtl_seed1']
    assert not [n for n in times if 'delta_m_table' in n or n.endswith('/refinement')]


def test_stopping_the_script_stops_its_queued_jobs(tmp_path):
    """Ctrl-C or a kill of the script stops the background jobs as well
    (they ignore SIGINT, as background jobs of a script do)."""
    fake = tmp_path / 'fake_python'
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    log = tmp_path / 'jobs.log'
    # as from a terminal: SIGINT at its default, also when pytest itself runs as a
    # background job (which ignores SIGINT; a shell cannot trap a signal ignored on entry)
    proc = subprocess.Popen(['bash', SCRIPT], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
                            text=True, env=dict(os.environ, OUT=str(tmp_path / 'out'),
                                                PYTHON=str(fake), FAKE_LOG=str(log),
                                                REAL_PYTHON=sys.executable, JOBS='2',
                                                SEEDS='0 1', FAIL='', FAKE_SLEEP='60'))
    try:
        for _ in range(200):  # until both long baselines run
            if log.is_file() and log.read_text().count('start mtl_seed') == 2:
                break
            time.sleep(0.1)
        else:
            raise AssertionError('the long baselines did not start')
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130 and 'the queued jobs are stopped too' in err
    for _ in range(100):  # the jobs end within a few seconds, even on a busy machine
        left = subprocess.run(['pgrep', '-f', str(fake)], capture_output=True, text=True).stdout
        if not left:
            break
        time.sleep(0.1)
    assert left == ''
