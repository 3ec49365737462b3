"""Label-efficiency sweep from per-fraction Δm tables: the tables that
``tools/analysis_tools/delta_m_table.py --json`` wrote for several label
fractions, side by side, mean ± std over seeds, with a plot against the
fraction::

    python tools/analysis_tools/label_efficiency_table.py \\
        --table 10=OUT/converged_frac10/stage2000/delta_m_table.json \\
        --table 50=OUT/converged_frac50/stage2000/delta_m_table.json \\
        --paired 'stage-wise refinement (+2000 iterations)' \\
                 'MTL baseline, 4000 iterations' \\
        --out OUT/label_efficiency_converged

Each table holds its single-task models (trained on the same labels) and its
rows, Δm against those single-task models. Every table must have the same
tasks and rows. Writes ``label_efficiency.md`` (also printed) and
``label_efficiency.png`` in ``--out``. ``--paired A B`` adds, per fraction,
the per-seed differences row A − row B (metrics and Δm), mean ± std, and in
how many seeds A has the higher Δm; A and B are row labels or the start of
exactly one row label (``'stage-wise refinement'``). Standard deviations use ``ddof=0``, as
the runner's tables.

``--tables-dir DIR`` keeps the sweep's fractions in ``DIR`` as
``frac<P>.json``: each ``--table`` is copied there (replacing the kept table
of its fraction), and every table kept there is part of the sweep (a
``frac*.json`` not named as its fraction is kept, e.g. ``frac50.0.json``,
is refused, naming it). A sweep
then grows over several runs, on other machines too (copy or commit the
folder)::

    python tools/analysis_tools/label_efficiency_table.py \
        --table 25=OUT/converged_frac25/stage2000/delta_m_table.json \
        --tables-dir docs/results/label_efficiency_converged_stage2000 --out OUT/sweep
"""
import argparse
import json
import math
import os
import os.path as osp
import shutil
from typing import Dict, List, Sequence, Tuple

import pandas as pd

from mmdmtl.experiments.aggregation import headline, paired_differences, std
from mmdmtl.experiments.plan import fraction_split, label_percent
from mmdmtl.experiments.reporting import metric_header, plot_sweep, seed_cells

SINGLE_TASK = 'single-task (same labels)'


def load_tables(tables: Sequence[Tuple[float, str]]) -> Tuple[pd.DataFrame, List[str], List[str]]:
    """One record per (row, fraction, seed), the single-task models as row
    ``SINGLE_TASK`` (Δm NaN); the tasks and the row labels in their order.
    Exits with a message naming the file when the tables do not match."""
    records: List[dict] = []
    tasks: List[str] = []
    rows: List[str] = []
    seeds: List[int] = []
    first = ''
    for pct, path in tables:
        try:
            with open(path) as f:
                data = json.load(f)
        except (OSError, json.JSONDecodeError) as e:
            raise SystemExit(f'label_efficiency_table: cannot read {path}: {e}')
        missing = [k for k in ('tasks', 'rows', 'records', 'single_task') if k not in data]
        if missing:
            raise SystemExit(f'label_efficiency_table: {path} has no {missing}; write it with '
                             'delta_m_table.py --json')
        if not first:
            first, tasks, rows = path, list(data['tasks']), list(data['rows'])
            seeds = list(data.get('seeds', []))
        elif list(data.get('seeds', [])) != seeds:
            raise SystemExit(f'label_efficiency_table: {path} has the seeds {data.get("seeds")}, '
                             f'{first} has {seeds}')
        elif list(data['tasks']) != tasks:
            raise SystemExit(f'label_efficiency_table: {path} has the tasks {data["tasks"]}, '
                             f'{first} has {tasks}')
        elif set(data['rows']) != set(rows):
            raise SystemExit(
                f'label_efficiency_table: {path} and {first} have other rows: only in {path}: '
                f'{sorted(set(data["rows"]) - set(rows))}, only in {first}: '
                f'{sorted(set(rows) - set(data["rows"]))}')
        for r in data['single_task']:
            records.append(dict(row=SINGLE_TASK, fraction=pct, seed=r['seed'], delta_m=math.nan,
                                **{t: r[t] for t in tasks}))
        for r in data['records']:
            records.append(dict(row=r['row'], fraction=pct, seed=r['seed'],
                                delta_m=r['delta_m'], **{t: r[t] for t in tasks}))
    return pd.DataFrame(records), tasks, [SINGLE_TASK] + rows


def summary_frame(frame: pd.DataFrame, tasks: Sequence[str], rows: Sequence[str]) -> pd.DataFrame:
    """Mean and std over seeds per (row, fraction), in row order then
    increasing fraction (columns: ``(metric, 'mean'|'std')``)."""
    values = [*tasks, 'delta_m']
    summary = frame.groupby(['row', 'fraction'])[values].agg(['mean', std])
    order = [(r, p) for r in rows for p in sorted(set(frame['fraction']))]
    return summary.reindex(pd.MultiIndex.from_tuples(order, names=['row', 'fraction']))


def to_table(frame: pd.DataFrame, tasks: Sequence[str], rows: Sequence[str]) -> str:
    """Markdown: per row and fraction, mean ± std of the metrics and Δm, and
    the per-seed Δm."""
    lines = ['| model | labels (%) | ' + ' | '.join(metric_header(t) for t in tasks)
             + ' | Δm (%)↑ | Δm per seed |', '|---|---|' + '---|' * (len(tasks) + 2)]
    for row in rows:
        for pct in sorted(set(frame['fraction'])):
            group = frame[(frame['row'] == row) & (frame['fraction'] == pct)]
            cells = seed_cells(group, tasks)
            if row == SINGLE_TASK:  # the reference: no Δm
                cells[-2:] = ['–', '–']
            lines.append(f'| {row} | {pct:g} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'


def paired_table(frame: pd.DataFrame, pairs: Sequence[Tuple[str, str]],
                 tasks: Sequence[str]) -> str:
    """Markdown: per pair (A, B) and fraction, the per-seed differences
    A − B of the metrics and of Δm, mean ± std, and the seeds where A has
    the higher Δm."""
    lines = ['| paired difference | labels (%) | ' + ' | '.join(metric_header(t) for t in tasks)
             + ' | Δm (%)↑ | Δm per seed | seeds A > B |', '|---|---|' + '---|' * (len(tasks) + 3)]
    for a, b in pairs:
        for pct in sorted(set(frame['fraction'])):
            diff = paired_differences(frame[frame['fraction'] == pct], a, b, tasks).dropna()
            cells = seed_cells(diff, tasks, signed=True)
            cells.append(f'{int((diff["delta_m"] > 0).sum())}/{len(diff)}')
            lines.append(f'| {a} − {b} | {pct:g} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'


def resolve_row(name: str, rows: Sequence[str]) -> str:
    """The row labelled ``name``, else the one row whose label starts with
    it; ``KeyError`` naming the rows when there is none or several."""
    if name in rows:
        return name
    matches = [r for r in rows if r.startswith(name)]
    if len(matches) != 1:
        raise KeyError(f'{name!r} is {"the start of several rows" if matches else "no row"}: '
                       f'{matches or list(rows)}')
    return matches[0]


def kept_tables(folder: str) -> Dict[float, str]:
    """The tables kept in ``folder`` (every ``frac*.json``), by fraction;
    none when the folder does not exist yet. Each is read by the runner's
    naming rule; exits naming the file when its P is not a percentage in
    (0, 100], or when the file is not named as :func:`keep` names its
    fraction (``frac50.0.json`` for ``frac50.json``), so that no table is
    silently ignored or shadowed by another of the same fraction."""
    kept: Dict[float, str] = {}
    if not osp.isdir(folder):
        return kept
    for name in sorted(os.listdir(folder)):
        if not (name.startswith('frac') and name.endswith('.json')):
            continue
        path, stem = osp.join(folder, name), name[:-len('.json')]
        try:
            pct = label_percent(stem)
        except ValueError:
            raise SystemExit(f'label_efficiency_table: {path}: {stem[len("frac"):]} is not a '
                             'percentage in (0, 100]') from None
        kept_name = fraction_split(pct)
        if kept_name != stem:
            raise SystemExit(f'label_efficiency_table: {path}: the {pct:g} % table is kept as '
                             f'{kept_name}.json; rename it (or remove it if that file is there '
                             'too)')
        kept[pct] = path
    return kept


def keep(tables: Dict[float, str], folder: str) -> None:
    """Copy each table to ``folder/frac<P>.json``, replacing the kept table
    of its fraction."""
    os.makedirs(folder, exist_ok=True)
    for pct, path in tables.items():
        target = osp.join(folder, fraction_split(pct) + '.json')
        if osp.abspath(path) != osp.abspath(target):
            shutil.copyfile(path, target)


def _fraction(text: str) -> float:
    """P of ``frac<P>`` by the runner's rule (``ValueError`` outside (0, 100])."""
    return label_percent('frac' + text)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--table', action='append', default=[], metavar='PERCENT=JSON',
                   help='the label fraction (%% of the images labelled per task) and the '
                   'delta_m_table.py --json file of its runs (repeatable)')
    p.add_argument('--paired', nargs=2, action='append', default=[], metavar=('A', 'B'),
                   help='also tabulate the per-seed differences row A − row B per fraction '
                   '(repeatable)')
    p.add_argument('--tables-dir', metavar='DIR',
                   help='keep the sweep\'s fractions here as frac<P>.json: the --table files are '
                   'copied here, and every table kept here is part of the sweep')
    p.add_argument('--title', default='', help='a line above the tables')
    p.add_argument('--out', required=True, help='folder of label_efficiency.md and .png')
    args = p.parse_args(argv)
    tables: Dict[float, str] = {}
    for item in args.table:
        text, sep, path = item.partition('=')
        try:
            pct = _fraction(text)
        except ValueError:
            p.error(f'--table must be PERCENT=JSON with 0 < PERCENT <= 100, got {item!r}')
        if not sep or not path:
            p.error(f'--table must be PERCENT=JSON, got {item!r}')
        if pct in tables:
            p.error(f'--table names {pct:g}% twice ({tables[pct]}, {path})')
        tables[pct] = path
    kept = kept_tables(args.tables_dir) if args.tables_dir else {}
    kept_only = sorted(set(kept) - set(tables))
    every = {**kept, **tables}  # a --table replaces the kept table of its fraction
    if not every:
        p.error('no table: give --table, or a --tables-dir that holds frac<P>.json files'
                + (f' ({args.tables_dir} holds none)' if args.tables_dir else ''))
    frame, tasks, rows = load_tables(sorted(every.items()))  # all checked before any is kept
    if args.tables_dir:
        keep(tables, args.tables_dir)
    try:
        models = rows[1:]  # not the single-task models (no Δm)
        pairs = [(resolve_row(a, models), resolve_row(b, models)) for a, b in args.paired]
    except KeyError as e:
        p.error(f'--paired: {e.args[0]}')
    unknown_tasks = [t for t in tasks if t not in headline()]
    if unknown_tasks:
        raise SystemExit(f'label_efficiency_table: unknown tasks {unknown_tasks}')
    md = (args.title + '\n\n' if args.title else '')
    if kept_only:
        md += (f'Kept in {args.tables_dir} from an earlier run: the '
               f'{", ".join(f"{p:g} %" for p in kept_only)} fraction table(s).\n\n')
    md += to_table(frame, tasks, rows)
    if pairs:
        md += '\n' + paired_table(frame, pairs, tasks)
    os.makedirs(args.out, exist_ok=True)
    with open(osp.join(args.out, 'label_efficiency.md'), 'w') as f:
        f.write(md)
    plot_sweep(summary_frame(frame, tasks, rows), None, tasks, {}, osp.join(
        args.out, 'label_efficiency.png'), delta_m_label='Δm vs single-task, same labels (%)')
    print(md, end='')
    print(f'[label_efficiency_table] wrote {args.out}/label_efficiency.md, .png')


if __name__ == '__main__':
    main()
