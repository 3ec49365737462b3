"""Headline metrics and Δm of models evaluated outside the experiment runner
(e.g. stage-wise refinements, fine-tuning controls), mean ± std over seeds,
against the single-task models of the same seed::

    python tools/analysis_tools/delta_m_table.py --seeds 0 1 2 \\
        --tasks semseg depth normal \\
        --stl 'RUNS/seed{seed}/stl_*/test_metrics.json' \\
        --row 'MTL baseline=RUNS/seed{seed}/mtl/test_metrics.json' \\
        --row 'stage-wise=REFINE/seed{seed}/refinement.json#final' \\
        --paired 'stage-wise' 'MTL baseline' --out table.md

Every pattern is a glob in which ``{seed}`` stands for the seed. ``--stl``
matches are merged (each single-task run holds its own task's metrics); a
``--row`` pattern must match exactly one file per seed. ``#KEY`` picks a
sub-dictionary, e.g. a mode of ``tools/analyze_refinement.py``'s
``refinement.json``. ``--paired A B`` adds the per-seed differences row A
minus row B (metrics and Δm) with their mean ± std. Standard deviations use
``ddof=0``, as the runner's tables. ``--json FILE`` also writes the per-seed
values (rows and single-task metrics), which
``tools/analysis_tools/label_efficiency_table.py`` puts side by side for
several label fractions.
"""
import argparse
import glob
import json
import os
from typing import Dict, List, Sequence, Tuple

import pandas as pd

from mmdmtl.experiments.aggregation import delta_m, headline, paired_differences
from mmdmtl.experiments.reporting import metric_header, seed_cells


def _load(pattern: str, seed: int, single: bool) -> Dict[str, float]:
    path_pattern, _, key = pattern.partition('#')
    paths = sorted(glob.glob(path_pattern.replace('{seed}', str(seed))))
    if not paths or (single and len(paths) > 1):
        raise SystemExit(f'delta_m_table: {pattern!r} with seed {seed} must match '
                         f'{"exactly one file" if single else "a file"}, matched {paths}')
    merged: Dict[str, float] = {}
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        if key:
            if key not in data:
                raise SystemExit(f'delta_m_table: {path} has no {key!r} (keys: {list(data)})')
            data = data[key]
        merged.update({k: float(v) for k, v in data.items() if isinstance(v, (int, float))})
    return merged


def delta_m_rows(rows: Sequence[Tuple[str, str]], stl: str, seeds: Sequence[int],
                 tasks: Sequence[str]) -> Tuple[pd.DataFrame, List[dict]]:
    """One record per (row, seed): the tasks' headline metrics and Δm
    against the single-task metrics of that seed; and one record per seed of
    those single-task metrics."""
    head = headline()
    records: List[dict] = []
    references: List[dict] = []
    for seed in seeds:
        reference = _load(stl, seed, single=False)
        for label, pattern in rows:
            metrics = _load(pattern, seed, single=True)
            for source, values in (('row ' + label, metrics), ('--stl', reference)):
                missing = [head[t][0] for t in tasks if head[t][0] not in values]
                if missing:
                    raise SystemExit(f'delta_m_table: {source} has no {missing} for seed {seed}')
            records.append(dict(row=label, seed=seed, delta_m=delta_m(metrics, reference, tasks),
                                **{t: metrics[head[t][0]] for t in tasks}))
        references.append(dict(seed=seed, **{t: reference[head[t][0]] for t in tasks}))
    return pd.DataFrame(records), references


def to_table(frame: pd.DataFrame, tasks: Sequence[str]) -> str:
    """Markdown: mean ± std per row and the per-seed Δm."""
    lines = ['| model | ' + ' | '.join(metric_header(t) for t in tasks)
             + ' | Δm (%)↑ | Δm per seed |', '|---|' + '---|' * (len(tasks) + 2)]
    for label, group in frame.groupby('row', sort=False):
        lines.append(f'| {label} | ' + ' | '.join(seed_cells(group, tasks)) + ' |')
    return '\n'.join(lines) + '\n'


def paired_table(frame: pd.DataFrame, pairs: Sequence[Tuple[str, str]],
                 tasks: Sequence[str]) -> str:
    """Markdown: per pair of rows (A, B), the per-seed differences A − B of
    every task's headline metric and of Δm, mean ± std over seeds."""
    lines = ['| paired difference | ' + ' | '.join(metric_header(t) for t in tasks)
             + ' | Δm (%)↑ | Δm per seed |', '|---|' + '---|' * (len(tasks) + 2)]
    for a, b in pairs:
        diff = paired_differences(frame, a, b, tasks)
        lines.append(f'| {a} − {b} | ' + ' | '.join(seed_cells(diff, tasks, signed=True)) + ' |')
    return '\n'.join(lines) + '\n'


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--seeds', type=int, nargs='+', required=True)
    p.add_argument('--tasks', nargs='+', required=True)
    p.add_argument('--stl', required=True, help='single-task metrics pattern')
    p.add_argument('--row', action='append', required=True, metavar='LABEL=PATTERN')
    p.add_argument('--paired', nargs=2, action='append', default=[], metavar=('A', 'B'),
                   help='also tabulate the per-seed differences row A − row B (repeatable)')
    p.add_argument('--out', help='markdown file to write (also printed)')
    p.add_argument('--json', help='also write the per-seed values of the rows and of the '
                   'single-task models to this JSON file')
    args = p.parse_args(argv)
    rows = []
    for item in args.row:
        label, sep, pattern = item.partition('=')
        if not sep or not label or not pattern:
            p.error(f'--row must be LABEL=PATTERN, got {item!r}')
        rows.append((label, pattern))
    unknown = [t for t in args.tasks if t not in headline()]
    if unknown:
        p.error(f'unknown tasks {unknown}')
    labels = [label for label, _ in rows]
    unpaired = [x for pair in args.paired for x in pair if x not in labels]
    if unpaired:
        p.error(f'--paired names no --row: {unpaired} (rows: {labels})')
    frame, references = delta_m_rows(rows, args.stl, args.seeds, args.tasks)
    md = to_table(frame, args.tasks)
    if args.paired:
        md += '\n' + paired_table(frame, args.paired, args.tasks)
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            f.write(md)
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, 'w') as f:
            json.dump({'tasks': list(args.tasks), 'seeds': list(args.seeds),
                       'rows': list(dict.fromkeys(frame['row'])),
                       'records': frame.to_dict(orient='records'),
                       'single_task': references},
                      f, indent=1)
    print(md, end='')


if __name__ == '__main__':
    main()
