"""Reports of an experiment: markdown tables (pandas ``to_markdown``), JSON,
bar chart of Δm, label-efficiency curves and learning curves from the logs."""
import glob
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

from mmdmtl.tasks import get_task

from .aggregation import DELTA_M, headline, std


def fmt_mean_std(mean: float, std: float, task: str) -> str:
    """``'mean ± std'`` with the task's ``report_decimals`` (4 for depth in
    metres, 2 otherwise; 2 for a name that is not a registered task)."""
    from mmdmtl.tasks import task_names
    digits = get_task(task).report_decimals if task in task_names() else 2
    return f'{mean:.{digits}f} ± {std:.{digits}f}'


def seed_cells(group: pd.DataFrame, tasks: Sequence[str], signed: bool = False) -> List[str]:
    """Table cells of one group of per-seed records (columns: the tasks'
    headline metrics and ``delta_m``): each metric's mean ± std, Δm's
    mean ± std and the per-seed Δm; ``signed`` writes Δm with its sign (for
    differences)."""
    sign = '+' if signed else ''
    cells = [fmt_mean_std(group[t].mean(), std(group[t]), t) for t in tasks]
    cells.append(f'{group["delta_m"].mean():{sign}.2f} ± {std(group["delta_m"]):.2f}')
    cells.append(', '.join(f'{v:{sign}.2f}' for v in group['delta_m']))
    return cells


def metric_header(task: str) -> str:
    """Column title of a task, e.g. ``'semseg mIoU↑'``."""
    name, higher = headline()[task]
    return f'{task} {name.split("/")[1]}{"↑" if higher else "↓"}'


def to_markdown(frame: pd.DataFrame) -> str:
    """``frame`` (cells already formatted as text) as a compact pipe table:
    ``DataFrame.to_markdown`` without the column padding, so rows read the
    same whatever the widths (``| a | b |``, separator ``|---|---|``)."""
    text = frame.to_markdown(index=False, tablefmt='pipe', disable_numparse=True)
    lines = []
    for i, line in enumerate(text.splitlines()):
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        if i == 1:
            lines.append('|' + '---|' * len(cells))
        else:
            lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def table_markdown(summary: pd.DataFrame, tasks: Sequence[str],
                   labels: Dict[str, str], intro: str,
                   single_task: Sequence[str] = ('stl',)) -> str:
    """Table 3 replica: one row per (label setting, method) with mean ± std
    of every task's headline metric and of Δm (``–`` for the
    ``single_task`` methods, the reference)."""
    rows = []
    for (split, method), row in summary.iterrows():
        cells = {'labels': split, 'method': labels.get(method, method)}
        for t in tasks:
            cells[metric_header(t)] = fmt_mean_std(row[(t, 'mean')], row[(t, 'std')], t)
        dm = (row[(DELTA_M, 'mean')], row[(DELTA_M, 'std')])
        cells['Δm (%)↑'] = '–' if method in single_task else f'{dm[0]:+.2f} ± {dm[1]:.2f}'
        rows.append(cells)
    return intro + '\n\n' + to_markdown(pd.DataFrame(rows)) + '\n'


def sweep_markdown(summary: pd.DataFrame, tasks: Sequence[str],
                   labels: Dict[str, str], intro: str) -> str:
    """Label-efficiency table: one row per (method, label fraction)."""
    rows = []
    for (method, pct), row in summary.iterrows():
        cells = {'method': labels.get(method, method), 'labels (%)': f'{pct:g}'}
        for t in tasks:
            cells[metric_header(t)] = fmt_mean_std(row[(t, 'mean')], row[(t, 'std')], t)
        cells['Δm (%)↑'] = (f'{row[(DELTA_M, "mean")]:+.2f} ± '
                            f'{row[(DELTA_M, "std")]:.2f}')
        rows.append(cells)
    return intro + '\n\n' + to_markdown(pd.DataFrame(rows)) + '\n'


def write_json(obj, path: str) -> None:
    """Write ``obj`` as indented JSON."""
    with open(path, 'w') as f:
        json.dump(obj, f, indent=1)


def _pyplot():
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def plot_delta_m(summary: pd.DataFrame, methods: Sequence[str], splits: Sequence[str],
                 labels: Dict[str, str], path: str) -> None:
    """Bar chart of Δm (mean ± std over seeds) per method and label setting."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(1.6 + 1.5 * len(methods), 3.6))
    width = 0.8 / max(1, len(splits))
    x = np.arange(len(methods))
    for i, split in enumerate(splits):
        means = [summary.loc[(split, m), (DELTA_M, 'mean')] for m in methods]
        stds = [summary.loc[(split, m), (DELTA_M, 'std')] for m in methods]
        ax.bar(x + i * width, means, width, yerr=stds, capsize=3, label=split)
    ax.axhline(0, color='k', lw=0.8)
    ax.set_xticks(x + width * (len(splits) - 1) / 2)
    ax.set_xticklabels([labels[m] for m in methods], rotation=20, ha='right', fontsize=8)
    ax.set_ylabel('Δm vs single-task (%)')
    ax.legend(title='labels')
    ax.set_title('Δm (mean ± std over seeds)')
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def sweep_figure(summary: pd.DataFrame, stl_mean: Optional[Dict[str, float]],
                 tasks: Sequence[str], labels: Dict[str, str],
                 delta_m_label: str = 'Δm vs single-task @100% (%)'):
    """The figure of :func:`plot_sweep` (returned, not saved).

    Each method keeps one colour in every panel (also where it has no value,
    as the single-task rows in the Δm panel), the x ticks are the fractions
    only, and one legend under the panels names every method, so that no
    curve hides behind it."""
    from matplotlib.ticker import NullLocator
    plt = _pyplot()
    keys = list(tasks) + [DELTA_M]
    head = headline()
    fig, axes = plt.subplots(1, len(keys), figsize=(3.2 * len(keys), 3.2))
    methods = list(dict.fromkeys(summary.index.get_level_values(0)))
    colours = {m: f'C{i % 10}' for i, m in enumerate(methods)}
    fracs = sorted(set(summary.index.get_level_values(1)))
    handles: Dict[str, object] = {}
    for ax, k in zip(np.atleast_1d(axes), keys):
        for m in methods:
            part = summary.loc[m].reindex(fracs)
            if part[(k, 'mean')].isna().all():
                continue
            line = ax.errorbar(fracs, part[(k, 'mean')], yerr=part[(k, 'std')], marker='o',
                               capsize=3, color=colours[m], label=labels.get(m, m))
            handles.setdefault(labels.get(m, m), line)
        if k == DELTA_M:
            ax.axhline(0, color='k', lw=0.8)
            ax.set_ylabel(delta_m_label)
            ax.set_title('Δm')
        else:
            if stl_mean is not None:
                handles.setdefault('single-task @100%', ax.axhline(
                    stl_mean[k], color='gray', ls='--', lw=1, label='single-task @100%'))
            name, higher = head[k]
            ax.set_title(f'{name} ({"higher" if higher else "lower"} is better)')
        ax.set_xscale('log')
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticks(fracs)
        ax.set_xticklabels([f'{p:g}' for p in fracs])
        ax.set_xlabel('labelled images per task (%)')
    fig.tight_layout()
    ncol = max(1, min(len(handles), 3))
    rows = -(-len(handles) // ncol)
    bottom = 0.05 + 0.07 * rows  # the share of the figure the legend takes
    fig.set_size_inches(fig.get_figwidth(), fig.get_figheight() / (1 - bottom))
    fig.subplots_adjust(bottom=bottom + 0.15 * (1 - bottom))
    fig.legend(list(handles.values()), list(handles), loc='lower center', ncol=ncol,
               fontsize=8, frameon=False)
    return fig


def plot_sweep(summary: pd.DataFrame, stl_mean: Optional[Dict[str, float]], tasks: Sequence[str],
               labels: Dict[str, str], path: str,
               delta_m_label: str = 'Δm vs single-task @100% (%)') -> None:
    """One panel per task metric and one for Δm, x = label fraction (log),
    saved to ``path``.

    ``stl_mean`` draws each task's single-task metric as a dashed line
    (``None``: no line, e.g. when the references are rows of ``summary``,
    one per fraction); a row whose Δm is NaN is left out of the Δm panel."""
    plt = _pyplot()
    fig = sweep_figure(summary, stl_mean, tasks, labels, delta_m_label)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def read_scalars(work_dir: str) -> pd.DataFrame:
    """Every scalar mmengine's ``LocalVisBackend`` logged for a run
    (``<work_dir>/<timestamp>/vis_data/scalars.json``, all timestamps), one
    row per logged line with its ``step``; empty when there is none."""
    rows: List[dict] = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    rows.append(json.loads(line))
                except ValueError:
                    raise ValueError(f'{path}, line {n}: not JSON: {line[:80]!r}') from None
    return pd.DataFrame(rows)


def initial_loss_curves(scalars: pd.DataFrame, tasks: Sequence[str],
                        initial_loss_weight: float = 1.0) -> pd.DataFrame:
    """Training loss of each task's initial (preliminary-decoder) prediction
    by iteration: ``decode.loss_<task>_init`` divided by the head's
    ``initial_loss_weight`` (it is logged scaled) where the head refines,
    else ``decode.loss_<task>`` (heads without refinement output only the
    initial predictions), so that the curves of all methods are on one
    scale. Columns: ``step`` and one per task found."""
    if scalars.empty or 'step' not in scalars:
        return pd.DataFrame(columns=['step'])
    cols, scale = {}, {}
    for t in tasks:
        for key, div in ((f'decode.loss_{t}_init', initial_loss_weight),
                         (f'decode.loss_{t}', 1.0)):
            if key in scalars and scalars[key].notna().any():
                cols[t], scale[t] = key, (div if div > 0 else 1.0)
                break
    train = scalars.dropna(subset=list(cols.values()) or None, how='all')
    out = train[['step', *cols.values()]].rename(columns={v: k for k, v in cols.items()})
    for t, div in scale.items():
        out[t] = out[t] / div
    return out.reset_index(drop=True)


def plot_learning_curves(curves: Dict[str, List[pd.DataFrame]], tasks: Sequence[str],
                         labels: Dict[str, str], path: str,
                         title: Optional[str] = None) -> None:
    """One panel per task: initial-decoder training loss against iteration,
    mean over the runs (seeds) of each method, so a reader sees whether the
    initial decoders converged within the budget."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(tasks), figsize=(3.2 * len(tasks), 3.0))
    for ax, t in zip(np.atleast_1d(axes), tasks):
        for method, frames in curves.items():
            parts = [f.set_index('step')[t] for f in frames if t in f]
            if not parts:
                continue
            mean = pd.concat(parts, axis=1).mean(axis=1).sort_index()
            ax.plot(mean.index, mean.values, label=labels.get(method, method))
        ax.set_title(f'{t}: initial-decoder loss')
        ax.set_xlabel('iteration')
        ax.set_yscale('log')
    np.atleast_1d(axes)[0].legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _summary_columns(tasks: Sequence[str],
                     metrics: Optional[Dict[str, Tuple[str, bool]]]) -> Dict[str, Tuple[str, bool]]:
    """``{column: (metric key, higher is better)}``: the given ``metrics``, or
    the tasks' headline metrics."""
    if metrics is not None:
        return dict(metrics)
    head = headline()
    return {t: head[t] for t in tasks}


def refinement_summary(results: Sequence[Dict[str, Dict[str, float]]],
                       tasks: Sequence[str],
                       reference: str = 'initial',
                       metrics: Optional[Dict[str, Tuple[str, bool]]] = None) -> pd.DataFrame:
    """Refined against initial predictions over several runs (seeds).

    Args:
        results: One ``refinement.json`` content per run:
            ``{mode: {metric key: value}}`` with a ``reference`` mode.
        tasks: Tasks to report (their headline metrics), or the columns of
            ``metrics``.
        reference: The mode the others are compared with.
        metrics: ``{column: (metric key, higher is better)}`` to report
            other metrics than the headline ones (e.g. the errors at
            discontinuities); the ``task`` column then holds these columns.

    Returns:
        One row per (mode, task): ``mean``, ``std`` (over runs, ``ddof=0``
        as every table of the runner) of the headline metric, the mean and std of its paired
        change from ``reference`` (``diff_mean``, ``diff_std``), and
        ``better``, the number of runs where the mode beats ``reference``
        in the metric's direction, out of ``runs``.

    Raises:
        ValueError: No results, a run without the ``reference`` mode, or a
            task whose headline metric a run lacks (naming the run's index).
    """
    if not results:
        raise ValueError('refinement_summary: no results to summarise')
    head = _summary_columns(tasks, metrics)
    rows = []
    for i, res in enumerate(results):
        if reference not in res:
            raise ValueError(f'refinement_summary: run {i} has no {reference!r} mode '
                             f'(modes: {list(res)})')
        for mode, metrics in res.items():
            for t in tasks:
                key, higher = head[t]
                if key not in metrics or key not in res[reference]:
                    raise ValueError(f'refinement_summary: run {i} mode {mode!r} has no '
                                     f'{key!r}')
                diff = float(metrics[key]) - float(res[reference][key])
                rows.append(dict(mode=mode, task=t, metric=key, run=i, value=float(metrics[key]),
                                 diff=diff, better=bool(diff > 0 if higher else diff < 0)))
    frame = pd.DataFrame(rows)
    grouped = frame.groupby(['mode', 'task', 'metric'], sort=False)
    out = grouped.agg(mean=('value', 'mean'), std=('value', std),
                      diff_mean=('diff', 'mean'), diff_std=('diff', std),
                      better=('better', 'sum'), runs=('run', 'count')).reset_index()
    return out


def refinement_summary_markdown(summary: pd.DataFrame, tasks: Sequence[str],
                                reference: str = 'initial', intro: str = '',
                                metrics: Optional[Dict[str, Tuple[str, bool]]] = None) -> str:
    """Markdown table of :func:`refinement_summary`: a row per mode, a column
    per task (or per column of ``metrics``, as given to it) with
    ``mean ± std`` and, for the other modes, the paired change from
    ``reference`` and how many runs it beats it in."""
    head = _summary_columns(tasks, metrics)
    cols = [f'{head[t][0]} {"↑" if head[t][1] else "↓"}' for t in tasks]
    lines = ([intro, ''] if intro else []) + [
        '| predictions | ' + ' | '.join(cols) + ' |', '|---|' + '---|' * len(tasks)]
    for mode in dict.fromkeys(summary['mode']):
        cells = []
        for t in tasks:
            r = summary[(summary['mode'] == mode) & (summary['task'] == t)].iloc[0]
            d = get_task(head[t][0].split('/')[0]).report_decimals
            cell = f'{r["mean"]:.{d}f} ± {r["std"]:.{d}f}'
            if mode != reference:
                cell += (f' ({r["diff_mean"]:+.{d}f} ± {r["diff_std"]:.{d}f}; '
                         f'better in {int(r["better"])}/{int(r["runs"])})')
            cells.append(cell)
        lines.append(f'| {mode} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'
