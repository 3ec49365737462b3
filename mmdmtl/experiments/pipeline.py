"""The two experiments of ``tools/run_experiments.py``: the Table 3 replica
and the label-efficiency sweep (plan → runs → aggregation → reports)."""
import json
import os
import os.path as osp
from typing import Dict, List, Sequence

import pandas as pd

from .aggregation import DELTA_M, headline, runs_frame, summarise, summary_dict
from .methods import MethodSpec
from .plan import (
    ExperimentSettings,
    RunSpec,
    fraction_split,
    label_fraction,
    plan_stages,
    prepare_run,
    run_dir,
    sweep_plan,
    table_plan,
    with_parents,
)
from .reporting import (
    initial_loss_curves,
    plot_delta_m,
    plot_learning_curves,
    plot_sweep,
    read_scalars,
    sweep_markdown,
    table_markdown,
    write_json,
)
from .worker import LOG_PREFIX, execute_runs


def load_record(settings: ExperimentSettings, run: RunSpec) -> dict:
    """Run record (see :mod:`.aggregation`) of a finished run.

    Raises:
        FileNotFoundError: the run has no ``test_metrics.json`` (names it).
    """
    path = osp.join(run_dir(settings, run), 'test_metrics.json')
    if not osp.isfile(path):
        raise FileNotFoundError(f'run {run} has no results: {path} is missing')
    with open(path) as f:
        metrics = json.load(f)
    return dict(method=run.method, tasks=list(run.tasks), split=run.split,
                seed=run.seed, metrics=metrics,
                single_task=settings.methods[run.method].single_task)


def run_all(settings: ExperimentSettings, plan: Sequence[RunSpec], jobs: int) -> List[dict]:
    """Do the runs of ``plan`` not finished yet, stage by stage (a staged
    method's runs after those they start from); records of all of them."""
    for stage in plan_stages(plan, settings.methods):
        execute_runs([r for r in (prepare_run(settings, p) for p in stage) if r], jobs)
    return [load_record(settings, p) for p in plan]


def _describe(settings: ExperimentSettings) -> str:
    from .methods import configs_root
    root = osp.dirname(configs_root())
    cfg = osp.relpath(settings.config, root) if osp.isabs(settings.config) else settings.config
    text = f'Config: `{cfg}`, {settings.iters} iterations'
    if settings.protocol is not None:
        p = settings.protocol
        text += (f' (pretrained protocol: backbone `{osp.basename(p.pretrained)}`, '
                 f'best of {p.val_evals} validations on `{p.save_best}`, test scenes of '
                 f'seed {p.test_seed})')
    return text


def _initial_loss_weight(cfg_path: str) -> float:
    """``initial_loss_weight`` of a run's head: the config's, else the head
    class's default; 1.0 without a run config or such an argument."""
    if not osp.isfile(cfg_path):
        return 1.0
    import inspect

    from mmengine.config import Config

    import mmdmtl.models  # noqa: F401  registers the heads
    from mmdmtl.registry import MODELS
    head = Config.fromfile(cfg_path).model.decode_head
    if 'initial_loss_weight' in head:
        return float(head.initial_loss_weight)
    cls = MODELS.get(head.get('type', ''))
    param = inspect.signature(cls.__init__).parameters.get('initial_loss_weight') if cls else None
    if param is None or param.default is inspect.Parameter.empty:
        return 1.0
    return float(param.default)


def write_learning_curves(settings: ExperimentSettings, plan: Sequence[RunSpec],
                          tasks: Sequence[str], out: str, prefix: str) -> List[str]:
    """``<prefix>_<label setting>.png`` per label setting: initial-decoder
    training losses of every method (mean over seeds) from the run logs, and
    ``<prefix>.json`` with the curves; returns the written images."""
    labels = {n: s.label for n, s in settings.methods.items()}
    by_split: Dict[str, Dict[str, List[pd.DataFrame]]] = {}
    for run in plan:
        wd = run_dir(settings, run)
        curve = initial_loss_curves(read_scalars(wd), run.tasks,
                                    _initial_loss_weight(osp.join(wd, 'run_config.py')))
        if len(curve):
            by_split.setdefault(run.split, {}).setdefault(run.method, []).append(curve)
    written, dump = [], {}
    for split, curves in by_split.items():
        path = osp.join(out, f'{prefix}_{split}.png')
        plot_learning_curves(curves, tasks, labels, path,
                             title=f'labels: {split}; mean over seeds')
        written.append(path)
        dump[split] = {m: [c.to_dict(orient='list') for c in cs] for m, cs in curves.items()}
    if dump:
        write_json(dump, osp.join(out, f'{prefix}.json'))
    return written


def _with_reference(settings: ExperimentSettings, names: Sequence[str]) -> List[MethodSpec]:
    specs = [settings.methods[n] for n in names]
    if not any(s.single_task for s in specs):
        specs.insert(0, settings.methods['stl'])
    return specs


def run_table(settings: ExperimentSettings, methods: Sequence[str], splits: Sequence[str],
              seeds: Sequence[int], jobs: int, out: str) -> str:
    """Table 3 replica: every method on every label setting and seed, Δm
    against the single-task models of the same setting and seed; writes
    ``results.md``, ``results.json``, ``delta_m.png`` and the learning
    curves into ``out``; returns the markdown."""
    tasks = settings.all_tasks
    specs = with_parents(_with_reference(settings, methods), settings.methods)
    plan = table_plan(specs, tasks, splits, seeds)
    records = run_all(settings, plan, jobs)
    frame = runs_frame(records, tasks)
    summary = summarise(frame)
    labels = {s.name: s.label for s in specs}
    single = [s.name for s in specs if s.single_task]
    intro = (f'{_describe(settings)}, seeds {list(seeds)}; mean ± std over seeds. Δm (%) '
             'against the single-task models of the same label setting and seed.')
    md = table_markdown(summary, tasks, labels, intro, single_task=single)
    os.makedirs(out, exist_ok=True)
    with open(osp.join(out, 'results.md'), 'w') as f:
        f.write(md)
    runs: Dict[str, Dict[int, Dict[str, dict]]] = {}
    for r in records:
        per = runs.setdefault(r['split'], {}).setdefault(r['seed'], {})
        per.setdefault(r['method'], {}).update(r['metrics'])
    write_json({'runs': runs, 'summary': summary_dict(summary)},
               osp.join(out, 'results.json'))
    multi = [s.name for s in specs if not s.single_task]
    plot_delta_m(summary, multi, list(splits), labels, osp.join(out, 'delta_m.png'))
    curves = write_learning_curves(settings, plan, tasks, out, 'learning_curves')
    print(md)
    print(f'{LOG_PREFIX} wrote {out}/results.md, results.json, delta_m.png'
          + (f', {len(curves)} learning-curve plot(s)' if curves else ''))
    return md


def run_sweep(settings: ExperimentSettings, methods: Sequence[str],
              fractions: Sequence[float], seeds: Sequence[int], jobs: int, out: str) -> str:
    """Label-efficiency sweep: the multi-task ``methods`` with every task
    labelled on P% of the images (independently per task), against
    single-task models trained on 100% (the fixed reference of Δm, so the
    curves show what the missing labels cost); mean ± std over ``seeds``.
    Writes ``label_efficiency.{md,json,png}`` and the learning curves."""
    tasks = settings.all_tasks
    multi = [settings.methods[n] for n in methods if not settings.methods[n].single_task] \
        or [settings.methods['mtl'], settings.methods['pred']]
    multi = with_parents(multi, settings.methods)
    reference = [s for s in settings.methods.values() if s.single_task][:1]
    fracs = sorted(set(float(p) for p in fractions))
    plan = sweep_plan(multi, reference, tasks, fracs, seeds)
    records = run_all(settings, plan, jobs)
    ref_split = fraction_split(100)
    stl = {r['seed']: {} for r in records if r['single_task']}
    for r in records:
        if r['single_task']:
            stl[r['seed']].update(r['metrics'])
    multi_records = [r for r in records if not r['single_task']]
    frame = runs_frame(multi_records, tasks,
                       reference={(ref_split, s): m for s, m in stl.items()},
                       reference_split=ref_split)
    frame['fraction'] = [label_fraction(s) * 100 for s in frame['split']]
    summary = summarise(frame.drop(columns='split'), by=('method', 'fraction'))
    order = [(m.name, p) for m in multi for p in fracs]
    summary = summary.reindex(pd.MultiIndex.from_tuples(order, names=['method', 'fraction']))
    head = headline()
    stl_mean = {t: float(pd.Series([stl[s][head[t][0]] for s in stl]).mean()) for t in tasks}
    labels = {s.name: s.label for s in multi}
    intro = (f'Label-efficiency sweep. {_describe(settings)}, seeds {list(seeds)}; every task '
             'labelled on P% of the training images (independently per task); mean ± std '
             'over seeds. Δm (%) against single-task models trained with 100% of the labels '
             '(same seed): ' + ', '.join(f'{t} {v:.4g}' for t, v in stl_mean.items()) + '.')
    md = sweep_markdown(summary, tasks, labels, intro)
    os.makedirs(out, exist_ok=True)
    with open(osp.join(out, 'label_efficiency.md'), 'w') as f:
        f.write(md)
    runs = {m.name: {} for m in multi}
    for (method, pct), part in frame.groupby(['method', 'fraction'], sort=False):
        runs[method][f'{pct:g}'] = {c: [float(v) for v in part[c]] for c in (*tasks, DELTA_M)}
    write_json({'fractions': fracs, 'single_task_100': stl,
                'runs': {m: {f'{p:g}': runs[m][f'{p:g}'] for p in fracs} for m in runs}},
               osp.join(out, 'label_efficiency.json'))
    plot_sweep(summary, stl_mean, tasks, labels, osp.join(out, 'label_efficiency.png'))
    curves = write_learning_curves(settings, plan, tasks, out, 'label_efficiency_curves')
    print(md)
    print(f'{LOG_PREFIX} wrote {out}/label_efficiency.md, .json, .png'
          + (f', {len(curves)} learning-curve plot(s)' if curves else ''))
    return md
