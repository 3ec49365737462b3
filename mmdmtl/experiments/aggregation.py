"""Aggregation of finished runs: Δm per run, mean ± std over seeds (pandas).

A *run record* is one finished run: ``dict(method=..., tasks=[...],
split=..., seed=..., metrics={...})`` (the test metrics it wrote). The
single-task records of a (label setting, seed) together form the Δm
reference of the multi-task records of the same label setting and seed.

Standard deviations are over seeds with ``ddof=0`` (population), as the
tables have always been written.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import pandas as pd

#: column of Δm (%) in the frames
DELTA_M = 'delta_m'


def headline() -> Dict[str, Tuple[str, bool]]:
    """``{task: (headline metric key, higher is better)}``; the one place that
    asks which metric stands for a task and its direction (paper.md §1.1)."""
    from mmdmtl.tasks import get_task, task_names
    return {t: (get_task(t).headline_key, get_task(t).higher_is_better)
            for t in task_names()}


def delta_m(metrics: Dict[str, float], baseline: Dict[str, float],
            tasks: Sequence[str]) -> float:
    """Δm (%) = mean over tasks of ±(M − M_stl)/M_stl × 100 (+ if higher is
    better) on each task's headline metric
    (:func:`mmdmtl.evaluation.functional.delta_m`)."""
    from mmdmtl.evaluation.functional import delta_m as delta_m_fn
    head = headline()
    return delta_m_fn(metrics, {head[t][0]: baseline[head[t][0]] for t in tasks})


def std(values: pd.Series) -> float:
    """Population standard deviation (``ddof=0``; 0 for a single seed)."""
    return float(values.std(ddof=0))


def paired_differences(frame: pd.DataFrame, a: str, b: str,
                       tasks: Sequence[str]) -> pd.DataFrame:
    """Per seed (the index), row ``a`` minus row ``b`` of a frame of
    per-seed records (columns ``row``, ``seed``, the tasks' metrics and
    ``delta_m``)."""
    by_seed = frame.set_index('seed')
    columns = [*tasks, 'delta_m']
    return by_seed[by_seed['row'] == a][columns] - by_seed[by_seed['row'] == b][columns]


def single_task_reference(records: Sequence[dict]) -> Dict[Tuple[str, int], Dict[str, float]]:
    """``{(split, seed): metrics}``: the single-task records of each label
    setting and seed merged into one metrics dict."""
    ref: Dict[Tuple[str, int], Dict[str, float]] = {}
    for r in records:
        if r.get('single_task'):
            ref.setdefault((r['split'], int(r['seed'])), {}).update(r['metrics'])
    return ref


def runs_frame(records: Sequence[dict], tasks: Sequence[str],
               reference: Optional[Dict[Tuple[str, int], Dict[str, float]]] = None,
               reference_split: Optional[str] = None) -> pd.DataFrame:
    """One row per (split, method, seed): each task's headline metric and Δm.

    Args:
        records: Run records (see the module docstring).
        tasks: Tasks of the table (the columns).
        reference: Δm reference per ``(split, seed)``; default: the
            single-task records of ``records``.
        reference_split: Take the reference of this label setting for every
            row (the label-efficiency sweep: single-task models on 100%).

    Raises:
        KeyError: a multi-task run has no single-task reference, or lacks a
            headline metric (names the run).
    """
    head = headline()
    ref = single_task_reference(records) if reference is None else reference
    rows: Dict[Tuple[str, str, int], dict] = {}
    for r in records:
        key = (r['split'], r['method'], int(r['seed']))
        row = rows.setdefault(key, dict(split=key[0], method=key[1], seed=key[2]))
        for t in (r['tasks'] if r.get('single_task') else tasks):
            name = head[t][0]
            if name not in r['metrics']:
                raise KeyError(f'run {r["method"]} {r["split"]} seed {r["seed"]}: '
                               f'no metric {name!r} in its results '
                               f'({sorted(r["metrics"])})')
            row[t] = r['metrics'][name]
        if r.get('single_task'):
            row[DELTA_M] = 0.0
        else:
            rkey = (reference_split or r['split'], int(r['seed']))
            if rkey not in ref:
                raise KeyError(f'run {r["method"]} {r["split"]} seed {r["seed"]}: no '
                               f'single-task runs of label setting {rkey[0]!r}, seed '
                               f'{rkey[1]} to compute Δm against')
            row[DELTA_M] = delta_m(r['metrics'], ref[rkey], tasks)
    return pd.DataFrame(list(rows.values()),
                        columns=['split', 'method', 'seed', *tasks, DELTA_M])


def summarise(frame: pd.DataFrame, by: Sequence[str] = ('split', 'method')) -> pd.DataFrame:
    """Mean and std over seeds of every metric column, grouped by ``by``
    (columns: a ``(metric, 'mean'|'std')`` MultiIndex; groups in their first
    order of appearance)."""
    values = [c for c in frame.columns if c not in ('split', 'method', 'seed')]
    return frame.groupby(list(by), sort=False)[values].agg(['mean', std])


def summary_dict(summary: pd.DataFrame) -> Dict[str, Dict[str, List[float]]]:
    """``{'split/method': {column: [mean, std]}}`` (the ``results.json``
    layout)."""
    out: Dict[str, Dict[str, List[float]]] = {}
    columns = summary.columns.get_level_values(0).unique()
    for key, row in summary.iterrows():
        name = '/'.join(str(k) for k in (key if isinstance(key, tuple) else (key,)))
        out[name] = {c: [float(row[(c, 'mean')]), float(row[(c, 'std')])]
                     for c in columns}
    return out
