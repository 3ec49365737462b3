"""Paper-style experiment runner (Table 3 of DiffusionMTL) on any dataset
config, by default the embedded synthetic dataset.

For every label setting (``--splits``) and seed it trains and evaluates:

==========  ==========================================================
method      model
==========  ==========================================================
stl         one single-task model per task (``MTLBaselineHead``, 1 task)
mtl         MTL baseline (shared backbone, preliminary decoders only)
pred        DiffusionMTL, prediction diffusion
feat        DiffusionMTL, feature diffusion
no_cond     prediction diffusion without multi-task conditioning
no_diff     prediction variant, iterative refinement instead of diffusion
pred_direct prediction diffusion with the paper's direct refinement
feat_direct feature diffusion with the paper's direct refinement
==========  ==========================================================

``pred``/``feat``/``no_cond``/``no_diff`` keep the config's ``refine_mode``
(``residual`` in the lite quick-start config); the ``*_direct`` methods (not
run unless listed in ``--methods``) force the paper's ``direct`` form.

then writes ``results.md`` (per-task metrics, mean ± std over seeds, and
Δm against the single-task models of the same split, like the paper's
Table 3), ``results.json`` and ``delta_m.png`` (bar chart) into
``--out``. Each run is a subprocess (``--worker``) so runs are isolated;
finished runs are reused when the script is started again; ``--jobs N``
runs N of them at a time.

With ``--label-fractions 5 10 25 50 100`` it runs the label-efficiency sweep
instead: the multi-task ``--methods`` trained with every task labelled on
P% of the images, against single-task models trained on 100%; it writes
``label_efficiency.md``, ``.json`` and ``.png`` (metric and Δm curves).

Examples::

    python tools/run_experiments.py --seeds 0 1 2 --iters 300 --jobs 2 \
        --out work_dirs/experiments/summary
    python tools/run_experiments.py --label-fractions 5 10 25 50 100 \
        --methods mtl pred --seeds 0 --iters 300 --jobs 2
"""
import argparse
import copy
import json
import os
import os.path as osp
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(HERE)
DEFAULT_CONFIG = osp.join(ROOT, 'configs', 'diffusionmtl',
                          'diffusionmtl_r18-lite_1xb8-1k_synthetic-96x128.py')

def _headline() -> Dict[str, Tuple[str, bool]]:
    """``{task: (headline metric key, higher is better)}``."""
    from mmdmtl.evaluation.functional import HEADLINE_METRICS, metric_higher_is_better
    return {t: (k, metric_higher_is_better(k)) for t, k in HEADLINE_METRICS.items()}


#: headline metric per task and whether higher is better (paper.md §1.1).
HEADLINE: Dict[str, Tuple[str, bool]] = _headline()

METHODS: Dict[str, str] = {
    'stl': 'Single-task',
    'mtl': 'MTL baseline',
    'pred': 'DiffusionMTL (Prediction)',
    'feat': 'DiffusionMTL (Feature)',
    'no_cond': 'Prediction w/o multi-task cond.',
    'no_diff': 'Prediction w/o diffusion',
    'pred_direct': 'DiffusionMTL (Prediction, direct)',
    'feat_direct': 'DiffusionMTL (Feature, direct)',
}
#: methods run when ``--methods`` is not given
DEFAULT_METHODS = ['stl', 'mtl', 'pred', 'feat', 'no_cond', 'no_diff']


def delta_m(metrics: Dict[str, float], baseline: Dict[str, float],
            tasks: Sequence[str]) -> float:
    """Δm (%) = mean over tasks of ±(M − M_stl)/M_stl × 100 (+ if higher is
    better) on each task's headline metric
    (:func:`mmdmtl.evaluation.functional.delta_m`)."""
    from mmdmtl.evaluation.functional import delta_m as delta_m_fn
    return delta_m_fn(metrics, {HEADLINE[t][0]: baseline[HEADLINE[t][0]] for t in tasks})


def fmt_mean_std(mean: float, std: float, task: str) -> str:
    """``'mean ± std'`` with 4 decimals for depth (metres), 2 otherwise."""
    digits = 4 if task == 'depth' else 2
    return f'{mean:.{digits}f} ± {std:.{digits}f}'


def head_overrides(method: str) -> dict:
    """Decode-head settings of a method (merged into the config's head)."""
    if method in ('stl', 'mtl'):
        return dict(type='MTLBaselineHead')
    if method == 'pred':
        return dict(type='DiffusionMTLHead', variant='prediction')
    if method == 'feat':
        return dict(type='DiffusionMTLHead', variant='feature')
    if method == 'no_cond':
        return dict(type='DiffusionMTLHead', variant='prediction',
                    use_task_conditioning=False)
    if method == 'no_diff':
        return dict(type='DiffusionMTLHead', variant='prediction',
                    use_diffusion=False)
    if method in ('pred_direct', 'feat_direct'):
        return dict(type='DiffusionMTLHead', refine_mode='direct',
                    variant='prediction' if method == 'pred_direct' else 'feature')
    raise KeyError(f'unknown method {method!r}; choose from {list(METHODS)}')


def split_file_for(cfg, split: str, split_tasks: Sequence[str],
                   out_dir: str) -> str:
    """Write (once) the partial-label split of the multi-task setting.

    Single-task models use the same file: a single-task model of task ``t``
    trains on exactly the images labelled for ``t`` in the multi-task split,
    like the paper's same-setting single-task baselines. The split is fixed
    (seed 0) across training seeds, as published splits are.
    """
    from mmdmtl.datasets.partial_labels import generate_partial_split, save_partial_split
    num = cfg.train_dataloader.dataset.get('num_train')
    if num is None:
        raise KeyError('--splits onelabel/randomlabels needs a dataset with '
                       '`num_train` (the synthetic one); for real datasets '
                       'pass split_file with --cfg-options and --splits full')
    path = osp.join(out_dir, f'{split}_{"-".join(split_tasks)}_n{num}.json')
    if not osp.isfile(path):
        os.makedirs(out_dir, exist_ok=True)
        frac = label_fraction(split)
        if frac is None:
            split_obj = generate_partial_split(num, list(split_tasks), split, seed=0)
        else:
            split_obj = generate_partial_split(
                num, list(split_tasks), 'fraction', seed=0,
                fractions={t: frac for t in split_tasks})
        save_partial_split(split_obj, path)
    return path


def label_fraction(split: str) -> Optional[float]:
    """``0.05`` for a label setting named ``frac5`` (every task labelled on
    5% of the images, independently), ``None`` for the other settings."""
    if not split.startswith('frac'):
        return None
    try:
        pct = float(split[4:])
    except ValueError:
        raise ValueError(f'label setting {split!r}: expected frac<percent>, '
                         'e.g. frac10') from None
    if not 0 < pct <= 100:
        raise ValueError(f'label setting {split!r}: percent must be in (0, 100]')
    return pct / 100.0


def build_run_cfg(base_cfg_path: str, method: str, tasks: Sequence[str],
                  split: str, seed: int, iters: int, work_dir: str,
                  split_tasks: Sequence[str] = None,
                  split_dir: str = '.'):
    """Make the config of one run."""
    from mmengine.config import Config

    from mmdmtl.utils.config_utils import restrict_config_to_tasks, set_head_type
    cfg = Config.fromfile(base_cfg_path)
    cfg = restrict_config_to_tasks(cfg, tasks)
    cfg = set_head_type(cfg, head_overrides(method))
    ds = cfg.train_dataloader.dataset
    ds['split_mode'] = None
    ds['split_file'] = None if split == 'full' else split_file_for(
        cfg, split, split_tasks or tasks, split_dir)
    # train on the images labelled for at least one of the run's tasks (a
    # single-task model of task t: the images labelled for t), so that every
    # batch is made of labelled samples
    ds['skip_unlabeled'] = True
    cfg.randomness = dict(seed=seed)
    cfg.work_dir = work_dir
    cfg.train_cfg.max_iters = iters
    cfg.train_cfg.val_interval = iters
    for sch in cfg.param_scheduler:
        if sch.get('end', 0) > iters:
            sch['end'] = iters
        if sch.get('begin', 0) >= iters:
            sch['begin'] = 0
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', by_epoch=False, interval=iters,
        max_keep_ckpts=1)
    cfg.default_hooks.logger.interval = max(1, iters // 10)
    cfg.default_hooks.visualization = dict(type='MTLVisualizationHook',
                                           draw=False)
    return cfg


def worker(cfg_path: str, out_json: str) -> None:
    """Train then test one config; dump the test metrics to ``out_json``."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import mmdmtl  # noqa: F401
    from mmdmtl.registry import RUNNERS
    cfg = Config.fromfile(cfg_path)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    runner = RUNNERS.build(cfg)
    t0 = time.time()
    runner.train()
    train_s = time.time() - t0
    metrics = runner.test()
    metrics = {k: float(v) for k, v in metrics.items()
               if isinstance(v, (int, float, np.floating))}
    metrics['train_seconds'] = train_s
    with open(out_json, 'w') as f:
        json.dump(metrics, f, indent=1)


def run_name(method: str, tasks: Sequence[str], split: str, seed: int) -> str:
    """Work-dir name of one run, e.g. ``onelabel/seed0/stl_depth``."""
    return f'{split}/seed{seed}/{method}' + (f'_{tasks[0]}' if method == 'stl' else '')


def prepare_run(args, method: str, tasks: Sequence[str], split: str,
                seed: int) -> Optional[Tuple[str, str, str]]:
    """Write one run's config (and its split file); ``None`` when the run
    already finished (reused unless ``--force``).

    Returns:
        ``(name, config path, metrics json path)`` of a run still to do.
    """
    name = run_name(method, tasks, split, seed)
    wd = osp.join(args.work_dir, name)
    out_json = osp.join(wd, 'test_metrics.json')
    if osp.isfile(out_json) and not args.force:
        return None
    os.makedirs(wd, exist_ok=True)
    cfg = build_run_cfg(args.config, method, tasks, split, seed, args.iters,
                        wd, split_tasks=args.all_tasks,
                        split_dir=osp.join(args.work_dir, 'splits'))
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg_path = osp.join(wd, 'run_config.py')
    cfg.dump(cfg_path)
    return name, cfg_path, out_json


def execute_runs(todo: Sequence[Tuple[str, str, str]], jobs: int) -> None:
    """Run the prepared runs as subprocesses, ``jobs`` at a time, each with
    ``cpu_count // jobs`` threads; print progress; raise naming the log of
    the first failed run (after the others finished)."""
    if not todo:
        return
    jobs = max(1, min(int(jobs), len(todo)))
    threads = max(1, (os.cpu_count() or 1) // jobs)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), MPLBACKEND='Agg')
    t_start = time.time()
    done = [0]

    def one(run: Tuple[str, str, str]) -> Optional[str]:
        name, cfg_path, out_json = run
        log_path = osp.join(osp.dirname(cfg_path), 'run.log')
        t0 = time.time()
        with open(log_path, 'w') as log:
            proc = subprocess.run(
                [sys.executable, osp.abspath(__file__), '--worker', cfg_path, out_json],
                stdout=log, stderr=subprocess.STDOUT, env=env)
        done[0] += 1
        status = 'done' if proc.returncode == 0 else f'FAILED (exit {proc.returncode})'
        print(f'[run_experiments] {done[0]}/{len(todo)} {name} {status} in '
              f'{time.time() - t0:.0f}s (total {(time.time() - t_start) / 60:.1f} min)',
              flush=True)
        return None if proc.returncode == 0 else f'run {name} failed; see {log_path}'

    print(f'[run_experiments] {len(todo)} runs to do, {jobs} at a time, '
          f'{threads} thread(s) each', flush=True)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        errors = [e for e in pool.map(one, todo) if e]
    if errors:
        raise RuntimeError('; '.join(errors))


def load_metrics(args, method: str, tasks: Sequence[str], split: str,
                 seed: int) -> Dict[str, float]:
    """Test metrics of a finished run."""
    path = osp.join(args.work_dir, run_name(method, tasks, split, seed),
                    'test_metrics.json')
    with open(path) as f:
        return json.load(f)


def summarise(results: Dict, tasks: Sequence[str], methods: Sequence[str],
              splits: Sequence[str], seeds: Sequence[int]) -> Dict:
    """mean/std per (split, method) of every headline metric and of Δm."""
    summary = {}
    for split in splits:
        for method in methods:
            if method == 'stl':
                continue
            rows = {t: [] for t in tasks}
            rows['delta_m'] = []
            for seed in seeds:
                m = results[split][seed][method]
                stl = results[split][seed]['stl']
                for t in tasks:
                    rows[t].append(m[HEADLINE[t][0]])
                rows['delta_m'].append(delta_m(m, stl, tasks))
            summary[(split, method)] = {
                k: (float(np.mean(v)), float(np.std(v)))
                for k, v in rows.items()
            }
        stl_rows = {t: [results[split][s]['stl'][HEADLINE[t][0]]
                        for s in seeds] for t in tasks}
        summary[(split, 'stl')] = {
            k: (float(np.mean(v)), float(np.std(v)))
            for k, v in stl_rows.items()
        }
        summary[(split, 'stl')]['delta_m'] = (0.0, 0.0)
    return summary


def write_markdown(summary: Dict, tasks: Sequence[str],
                   methods: Sequence[str], splits: Sequence[str],
                   seeds: Sequence[int], args) -> str:
    head = ' | '.join(f'{t} {HEADLINE[t][0].split("/")[1]}'
                      f'{"↑" if HEADLINE[t][1] else "↓"}' for t in tasks)
    lines = [
        f'Config: `{osp.relpath(args.config, ROOT)}`, {args.iters} iterations,'
        f' seeds {list(seeds)}; mean ± std over seeds. Δm (%) against the '
        'single-task models of the same label setting and seed.', '',
        f'| labels | method | {head} | Δm (%)↑ |',
        '|' + '---|' * (len(tasks) + 3)
    ]
    for split in splits:
        for method in methods:
            s = summary[(split, method)]
            cells = ' | '.join(fmt_mean_std(*s[t], t) for t in tasks)
            dm = s['delta_m']
            dm_s = '–' if method == 'stl' else f'{dm[0]:+.2f} ± {dm[1]:.2f}'
            lines.append(f'| {split} | {METHODS[method]} | {cells} | {dm_s} |')
    return '\n'.join(lines) + '\n'


def plot(summary: Dict, methods: Sequence[str], splits: Sequence[str],
         path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    methods = [m for m in methods if m != 'stl']
    fig, ax = plt.subplots(figsize=(1.6 + 1.5 * len(methods), 3.6))
    width = 0.8 / max(1, len(splits))
    x = np.arange(len(methods))
    for i, split in enumerate(splits):
        means = [summary[(split, m)]['delta_m'][0] for m in methods]
        stds = [summary[(split, m)]['delta_m'][1] for m in methods]
        ax.bar(x + i * width, means, width, yerr=stds, capsize=3, label=split)
    ax.axhline(0, color='k', lw=0.8)
    ax.set_xticks(x + width * (len(splits) - 1) / 2)
    ax.set_xticklabels([METHODS[m] for m in methods], rotation=20,
                       ha='right', fontsize=8)
    ax.set_ylabel('Δm vs single-task (%)')
    ax.legend(title='labels')
    ax.set_title('Δm on the embedded dataset (mean ± std over seeds)')
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def parse_args(argv=None):
    from mmengine.config import DictAction
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--config', default=DEFAULT_CONFIG,
                   help='base config (its head and dataset are modified)')
    p.add_argument('--tasks', nargs='+', default=None,
                   help='tasks (default: those of the config)')
    p.add_argument('--splits', nargs='+', default=['onelabel', 'randomlabels'],
                   help='label settings: onelabel, randomlabels, full or frac<P> '
                   '(every task labelled on P%% of the images)')
    p.add_argument('--methods', nargs='+', default=list(DEFAULT_METHODS),
                   choices=list(METHODS))
    p.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    p.add_argument('--iters', type=int, default=600,
                   help='training iterations per run')
    p.add_argument('--label-fractions', nargs='+', type=float, default=None,
                   metavar='P',
                   help='label-efficiency sweep instead of the table: train '
                   '--methods with every task labelled on P%% of the images '
                   '(e.g. 5 10 25 50 100) and the single-task models on 100%%; '
                   'writes label_efficiency.{md,json,png}')
    p.add_argument('--jobs', type=int, default=1,
                   help='runs in parallel (each gets cpu_count/jobs threads)')
    p.add_argument('--work-dir', default='work_dirs/experiments')
    p.add_argument('--out', default='work_dirs/experiments/summary')
    p.add_argument('--force', action='store_true',
                   help='re-run finished runs')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='overrides applied to every run config')
    p.add_argument('--worker', nargs=2, metavar=('CFG', 'OUT_JSON'),
                   help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.worker:
        worker(*args.worker)
        return
    from mmengine.config import Config
    tasks = args.tasks or list(Config.fromfile(args.config).tasks)
    args.all_tasks = tasks
    if args.label_fractions:
        sweep(args, tasks)
        return
    methods = list(args.methods)
    if 'stl' not in methods:
        methods.insert(0, 'stl')
    plan = [(m, tt, split, seed) for split in args.splits for seed in args.seeds
            for m in methods for tt in ([[t] for t in tasks] if m == 'stl' else [tasks])]
    execute_runs([r for r in (prepare_run(args, *p) for p in plan) if r], args.jobs)
    results: Dict = {}
    for split in args.splits:
        results[split] = {}
        for seed in args.seeds:
            stl: Dict[str, float] = {}
            for t in tasks:
                stl.update(load_metrics(args, 'stl', [t], split, seed))
            per = {'stl': stl}
            for m in methods:
                if m != 'stl':
                    per[m] = load_metrics(args, m, tasks, split, seed)
            results[split][seed] = per
    summary = summarise(results, tasks, methods, args.splits, args.seeds)
    os.makedirs(args.out, exist_ok=True)
    md = write_markdown(summary, tasks, methods, args.splits, args.seeds, args)
    with open(osp.join(args.out, 'results.md'), 'w') as f:
        f.write(md)
    with open(osp.join(args.out, 'results.json'), 'w') as f:
        json.dump({'runs': copy.deepcopy(results),
                   'summary': {f'{k[0]}/{k[1]}': v
                               for k, v in summary.items()}}, f, indent=1)
    plot(summary, methods, args.splits, osp.join(args.out, 'delta_m.png'))
    print(md)
    print(f'[run_experiments] wrote {args.out}/results.md, results.json, '
          'delta_m.png')


def fraction_split(pct: float) -> str:
    """Label-setting name of a percentage: ``5.0 -> 'frac5'``."""
    return f'frac{pct:g}'


def sweep(args, tasks: Sequence[str]) -> None:
    """Label-efficiency sweep: metrics and Δm against label fraction.

    Every task is labelled on ``P%`` of the training images (independently
    per task); the multi-task ``--methods`` train on each fraction, the
    single-task models once on 100% (the fixed reference of Δm, so the
    curves show what the missing labels cost). Mean ± std over ``--seeds``.
    """
    methods = [m for m in args.methods if m != 'stl'] or ['mtl', 'pred']
    fracs = sorted(set(float(p) for p in args.label_fractions))
    for p in fracs:
        label_fraction(fraction_split(p))  # validates the range
    ref_split = fraction_split(100)
    plan = [('stl', [t], ref_split, seed) for seed in args.seeds for t in tasks]
    plan += [(m, tasks, fraction_split(p), seed) for p in fracs for seed in args.seeds
             for m in methods]
    execute_runs([r for r in (prepare_run(args, *q) for q in plan) if r], args.jobs)
    rows: Dict[str, Dict[float, Dict[str, List[float]]]] = {}
    stl = {seed: {} for seed in args.seeds}
    for seed in args.seeds:
        for t in tasks:
            stl[seed].update(load_metrics(args, 'stl', [t], ref_split, seed))
    for m in methods:
        rows[m] = {}
        for p in fracs:
            vals: Dict[str, List[float]] = {t: [] for t in tasks}
            vals['delta_m'] = []
            for seed in args.seeds:
                met = load_metrics(args, m, tasks, fraction_split(p), seed)
                for t in tasks:
                    vals[t].append(met[HEADLINE[t][0]])
                vals['delta_m'].append(delta_m(met, stl[seed], tasks))
            rows[m][p] = vals
    stl_mean = {t: float(np.mean([stl[s][HEADLINE[t][0]] for s in args.seeds]))
                for t in tasks}
    os.makedirs(args.out, exist_ok=True)
    head = ' | '.join(f'{t} {HEADLINE[t][0].split("/")[1]}'
                      f'{"↑" if HEADLINE[t][1] else "↓"}' for t in tasks)
    lines = [
        f'Label-efficiency sweep. Config: `{osp.relpath(args.config, ROOT)}`, {args.iters} '
        f'iterations, seeds {list(args.seeds)}; every task labelled on P% of the '
        'training images (independently per task); mean ± std over seeds. Δm (%) against '
        'single-task models trained with 100% of the labels (same seed): '
        + ', '.join(f'{t} {v:.4g}' for t, v in stl_mean.items()) + '.', '',
        f'| method | labels (%) | {head} | Δm (%)↑ |', '|' + '---|' * (len(tasks) + 3)]
    for m in methods:
        for p in fracs:
            v = rows[m][p]
            cells = ' | '.join(fmt_mean_std(np.mean(v[t]), np.std(v[t]), t) for t in tasks)
            lines.append(f'| {METHODS[m]} | {p:g} | {cells} | '
                         f'{np.mean(v["delta_m"]):+.2f} ± {np.std(v["delta_m"]):.2f} |')
    md = '\n'.join(lines) + '\n'
    with open(osp.join(args.out, 'label_efficiency.md'), 'w') as f:
        f.write(md)
    with open(osp.join(args.out, 'label_efficiency.json'), 'w') as f:
        json.dump({'fractions': fracs, 'single_task_100': stl,
                   'runs': {m: {f'{p:g}': v for p, v in r.items()}
                            for m, r in rows.items()}}, f, indent=1)
    plot_sweep(rows, stl_mean, tasks, fracs, osp.join(args.out, 'label_efficiency.png'))
    print(md)
    print(f'[run_experiments] wrote {args.out}/label_efficiency.md, .json, .png')


def plot_sweep(rows: Dict, stl_mean: Dict[str, float], tasks: Sequence[str],
               fracs: Sequence[float], path: str) -> None:
    """One panel per task metric and one for Δm, x = label fraction (log)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    keys = list(tasks) + ['delta_m']
    fig, axes = plt.subplots(1, len(keys), figsize=(3.2 * len(keys), 3.2))
    for ax, k in zip(np.atleast_1d(axes), keys):
        for m, r in rows.items():
            mean = np.array([np.mean(r[p][k]) for p in fracs])
            std = np.array([np.std(r[p][k]) for p in fracs])
            ax.errorbar(fracs, mean, yerr=std, marker='o', capsize=3, label=METHODS[m])
        if k == 'delta_m':
            ax.axhline(0, color='k', lw=0.8)
            ax.set_ylabel('Δm vs single-task @100% (%)')
            ax.set_title('Δm')
        else:
            ax.axhline(stl_mean[k], color='gray', ls='--', lw=1, label='single-task @100%')
            name, higher = HEADLINE[k]
            ax.set_title(f'{name} ({"higher" if higher else "lower"} is better)')
        ax.set_xscale('log')
        ax.set_xticks(fracs)
        ax.set_xticklabels([f'{p:g}' for p in fracs])
        ax.set_xlabel('labelled images per task (%)')
    np.atleast_1d(axes)[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == '__main__':
    main()
