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
==========  ==========================================================

then writes ``results.md`` (per-task metrics, mean ± std over seeds, and
Δm against the single-task models of the same split, like the paper's
Table 3), ``results.json`` and ``delta_m.png`` (bar chart) into
``--out``. Each run is a subprocess (``--worker``) so runs are isolated;
finished runs are reused when the script is started again.

Example (the README's table)::

    python tools/run_experiments.py --seeds 0 1 2 --iters 600 \
        --out results/synthetic
"""
import argparse
import copy
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Dict, Sequence, Tuple

import numpy as np

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(HERE)
DEFAULT_CONFIG = osp.join(ROOT, 'configs',
                          'diffusionmtl_r18-lite_1xb8-1k_synthetic-96x128.py')

#: headline metric per task and whether higher is better (paper.md §1.1).
HEADLINE: Dict[str, Tuple[str, bool]] = {
    'semseg': ('semseg/mIoU', True),
    'parts': ('parts/mIoU', True),
    'sal': ('sal/maxF', True),
    'edge': ('edge/odsF', True),
    'depth': ('depth/absErr', False),
    'normal': ('normal/mean', False),
}

METHODS: Dict[str, str] = {
    'stl': 'Single-task',
    'mtl': 'MTL baseline',
    'pred': 'DiffusionMTL (Prediction)',
    'feat': 'DiffusionMTL (Feature)',
    'no_cond': 'Prediction w/o multi-task cond.',
    'no_diff': 'Prediction w/o diffusion',
}


def delta_m(metrics: Dict[str, float], baseline: Dict[str, float],
            tasks: Sequence[str]) -> float:
    """Δm (%) = mean over tasks of ±(M − M_stl)/M_stl × 100 (+ if higher is
    better)."""
    vals = []
    for t in tasks:
        key, higher = HEADLINE[t]
        m, b = metrics[key], baseline[key]
        sign = 1.0 if higher else -1.0
        vals.append(sign * (m - b) / b * 100.0)
    return float(np.mean(vals))


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
        save_partial_split(
            generate_partial_split(num, list(split_tasks), split, seed=0),
            path)
    return path


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


def run_one(args, method: str, tasks: Sequence[str], split: str,
            seed: int) -> Dict[str, float]:
    name = f'{split}/seed{seed}/{method}' + (
        f'_{tasks[0]}' if method == 'stl' else '')
    wd = osp.join(args.work_dir, name)
    out_json = osp.join(wd, 'test_metrics.json')
    if osp.isfile(out_json) and not args.force:
        with open(out_json) as f:
            return json.load(f)
    os.makedirs(wd, exist_ok=True)
    cfg = build_run_cfg(args.config, method, tasks, split, seed, args.iters,
                        wd, split_tasks=args.all_tasks,
                        split_dir=osp.join(args.work_dir, 'splits'))
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg_path = osp.join(wd, 'run_config.py')
    cfg.dump(cfg_path)
    print(f'[run_experiments] {name} ...', flush=True)
    t0 = time.time()
    with open(osp.join(wd, 'run.log'), 'w') as log:
        proc = subprocess.run(
            [sys.executable, osp.abspath(__file__), '--worker', cfg_path,
             out_json], stdout=log, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise RuntimeError(f'run {name} failed (exit {proc.returncode}); '
                           f'see {osp.join(wd, "run.log")}')
    print(f'[run_experiments] {name} done in {time.time() - t0:.0f}s',
          flush=True)
    with open(out_json) as f:
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
    def fmt(ms, t):
        mean, std = ms
        digits = 4 if t == 'depth' else 2
        return f'{mean:.{digits}f} ± {std:.{digits}f}'

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
            cells = ' | '.join(fmt(s[t], t) for t in tasks)
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
                   help="label settings: onelabel, randomlabels or full")
    p.add_argument('--methods', nargs='+', default=list(METHODS),
                   choices=list(METHODS))
    p.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    p.add_argument('--iters', type=int, default=600,
                   help='training iterations per run')
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
    methods = list(args.methods)
    if 'stl' not in methods:
        methods.insert(0, 'stl')
    results: Dict = {}
    for split in args.splits:
        results[split] = {}
        for seed in args.seeds:
            per = {}
            stl: Dict[str, float] = {}
            for t in tasks:
                stl.update(run_one(args, 'stl', [t], split, seed))
            per['stl'] = stl
            for m in methods:
                if m != 'stl':
                    per[m] = run_one(args, m, tasks, split, seed)
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


if __name__ == '__main__':
    main()
