"""Plot training curves of mmdmtl runs from their mmengine scalar logs.

Reads ``<work_dir>/<timestamp>/vis_data/scalars.json`` (one JSON object per
line; written by mmengine's ``LocalVisBackend``, on by default in mmdmtl's
configs) or any such file given directly, and draws

* one panel per task with the loss of the **final** (refined) prediction,
  ``decode.loss_<task>``, and of the **initial** prediction,
  ``decode.loss_<task>_init``, over iterations;
* the validation **Δm** (``mtl/delta_m``) over iterations, when the run
  evaluated with Δm baselines;
* any other key given with ``--keys``.

Several logs are overlaid with ``--legend``. Example::

    python tools/analysis_tools/analyze_logs.py work_dirs/run1 work_dirs/run2 \\
        --legend pred feature --out curves.png

``--summary-from N`` also prints, per log and task, the mean training loss of
the final and of the initial prediction from iteration N on and their ratio
(final / initial, the initial loss divided by ``--initial-loss-weight``, the
head's weight of it in the logged value): below 1 where the refinement fits
the training labels better than its input. Compare it only where both losses
are the same loss (a task without ``refine_loss_decode``).
"""
import argparse
import glob
import json
import os.path as osp
import re
from collections import defaultdict
from typing import Dict, List, Optional, Tuple

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

Series = Dict[str, List[Tuple[int, float]]]
LOSS_RE = re.compile(r'^decode\.loss_(?P<task>.+?)(?P<init>_init)?$')


def find_scalars(path: str) -> str:
    """The ``scalars.json`` of a work_dir (newest run) or the file itself."""
    if osp.isfile(path):
        return path
    found = sorted(glob.glob(osp.join(path, '*', 'vis_data', 'scalars.json')))
    if not found:
        found = sorted(glob.glob(osp.join(path, 'vis_data', 'scalars.json')))
    if not found:
        raise FileNotFoundError(f'analyze_logs: no */vis_data/scalars.json under {path} '
                                '(is it an mmengine work_dir with LocalVisBackend?)')
    return found[-1]


def load_scalars(path: str) -> Series:
    """``{key: [(step, value), ...]}`` from a scalars.json file."""
    series: Series = defaultdict(list)
    with open(path, encoding='utf-8') as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f'analyze_logs: {path} line {lineno} is not JSON: {e}') from e
            step = rec.get('step', rec.get('iter'))
            if step is None:
                continue
            for k, v in rec.items():
                if k in ('step', 'iter', 'epoch') or not isinstance(v, (int, float)):
                    continue
                series[k].append((int(step), float(v)))
    return dict(series)


def task_losses(series: Series) -> Dict[str, Dict[str, List[Tuple[int, float]]]]:
    """``{task: {'final': [...], 'initial': [...]}}`` from the loss keys."""
    out: Dict[str, Dict[str, List[Tuple[int, float]]]] = defaultdict(dict)
    for k, v in series.items():
        m = LOSS_RE.match(k)
        if m:
            out[m.group('task')]['initial' if m.group('init') else 'final'] = v
    return dict(out)


def loss_summary(series: Series, start: int,
                 initial_weight: float = 1.0) -> Dict[str, Tuple[float, float, float]]:
    """``{task: (final mean, initial mean, final / initial)}`` over the
    logged steps ``>= start`` of every task logging both losses; the initial
    loss is divided by ``initial_weight`` first.

    Raises:
        ValueError: no task logs both losses from ``start`` on.
    """
    out = {}
    for task, curves in sorted(task_losses(series).items()):
        final = [v for step, v in curves.get('final', []) if step >= start]
        init = [v / initial_weight for step, v in curves.get('initial', []) if step >= start]
        if final and init:
            f, i = sum(final) / len(final), sum(init) / len(init)
            out[task] = (f, i, f / i if i else float('nan'))
    if not out:
        raise ValueError(f'analyze_logs: no task logs both decode.loss_<task> and '
                         f'decode.loss_<task>_init from step {start} on')
    return out


def plot(logs: List[Series], legend: List[str], keys: List[str], out: str,
         title: Optional[str] = None) -> List[str]:
    """Draw the figure; returns the panel titles."""
    tasks = sorted({t for s in logs for t in task_losses(s)})
    extra = [k for k in keys if any(k in s for s in logs)]
    panels = [f'loss: {t}' for t in tasks]
    if any('mtl/delta_m' in s for s in logs):
        panels.append('mtl/delta_m')
    panels += [k for k in extra if k not in panels]
    if not panels:
        raise ValueError('analyze_logs: the logs hold no decode.loss_* or mtl/delta_m keys')
    ncol = min(3, len(panels))
    nrow = (len(panels) + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(5 * ncol, 3.6 * nrow), squeeze=False)
    for ax, name in zip(axes.flat, panels):
        for s, lab in zip(logs, legend):
            if name.startswith('loss: '):
                task = name[len('loss: '):]
                for which, style in (('final', '-'), ('initial', '--')):
                    pts = task_losses(s).get(task, {}).get(which)
                    if pts:
                        ax.plot(*zip(*pts), style, label=f'{lab} {which}')
                ax.set_yscale('log')
            elif name in s:
                ax.plot(*zip(*s[name]), 'o-', label=lab)
        ax.set_title(name)
        ax.set_xlabel('iteration')
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis('off')
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return panels


def main(argv: Optional[List[str]] = None) -> List[str]:
    p = argparse.ArgumentParser(description='Plot per-task losses and Δm of mmdmtl runs')
    p.add_argument('logs', nargs='+', help='work_dirs or scalars.json files')
    p.add_argument('--legend', nargs='+', help='one name per log (default: the paths)')
    p.add_argument('--keys', nargs='+', default=[], help='more scalar keys to plot')
    p.add_argument('--out', default='curves.png', help='output picture')
    p.add_argument('--title')
    p.add_argument('--summary-from', type=int, metavar='N',
                   help='print the mean final and initial training loss per task from '
                   'iteration N on, and their ratio')
    p.add_argument('--initial-loss-weight', type=float, default=1.0,
                   help="the head's initial_loss_weight (the logged initial loss is "
                   'divided by it for the summary; default 1.0)')
    args = p.parse_args(argv)
    legend = args.legend or args.logs
    if len(legend) != len(args.logs):
        raise SystemExit(f'analyze_logs: {len(args.logs)} logs but {len(legend)} legend names')
    files = [find_scalars(x) for x in args.logs]
    logs = [load_scalars(f) for f in files]
    panels = plot(logs, legend, args.keys, args.out, args.title)
    print(f'{len(panels)} panels ({", ".join(panels)}) from {", ".join(files)} -> {args.out}')
    if args.summary_from is not None:
        print(f'\nTraining loss from iteration {args.summary_from} on (initial loss / '
              f'{args.initial_loss_weight:g}):\n')
        print('| log | task | final | initial | final / initial |\n|---|---|---|---|---|')
        for series, lab in zip(logs, legend):
            rows = loss_summary(series, args.summary_from, args.initial_loss_weight)
            for task, (fin, ini, ratio) in rows.items():
                print(f'| {lab} | {task} | {fin:.4f} | {ini:.4f} | {ratio:.4f} |')
    return panels


if __name__ == '__main__':
    main()
