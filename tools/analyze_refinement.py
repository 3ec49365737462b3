"""Does the diffusion refinement help this model? Evaluate one checkpoint of a
DiffusionMTL config three ways on its test set:

* ``final``          the model as trained and evaluated by tools/test.py
                     (``test_noise`` as in the config; the official code
                     noises at inference);
* ``final, no noise`` the same chain without inference noise
                     (``test_noise='none'``: deterministic);
* ``initial``        the preliminary decoders' predictions, i.e. the model
                     without its refinement stage.

and print a table with the headline metric of every task (and the change
from ``initial``), plus a JSON file with all metrics::

    python tools/analyze_refinement.py CONFIG CHECKPOINT [--out DIR]
        [--split {test,val}] [--disc-width W] [--cfg-options k=v ...]

``--split val`` evaluates on the config's validation set instead (its
``val_dataloader`` / ``val_evaluator``), where choices may be made without
touching the test set. It also writes ``output_choice.json``: per task,
``'final'`` where the refined map is at least as good as the initial one on
validation, else ``'initial'``, and prints the ``--cfg-options`` that make
``tools/test.py`` output that choice (``model.test_cfg.output``);
``--test-choice`` also evaluates that choice on the test set
(``test_metrics_choice.json``, the format of the runner's
``test_metrics.json``). This keeps a task's initial map where the refinement
does not help it; it does not make the refinement better.

``--disc-width W`` also splits the depth and normal errors at the ground
truth's discontinuities (within ``W`` pixels of a depth jump or normal
crease) from the rest, for every mode: a second table shows where the
refinement changes the error (e.g. sharper boundaries than a coarse first
stage, or a different depth scale inside regions).

Over several runs (e.g. the seeds of one method), summarise earlier
analyses: mean ± std of every mode and the paired change of the refined
predictions from the initial ones, with the number of runs where the
refinement helps (``refinement_summary.md`` / ``.json`` in ``--out``)::

    python tools/analyze_refinement.py --summarize DIR [DIR ...] --out OUT
"""
import argparse
import copy
import json
import os
import os.path as osp
from typing import Dict, Sequence, Tuple

from mmengine.config import Config, DictAction

from mmdmtl.experiments.aggregation import headline

#: headline metric per task and whether higher is better (paper.md §1.1).
HEADLINE: Dict[str, Tuple[str, bool]] = headline()
MODES = {
    'final': dict(output='final'),
    'final, no noise': dict(output='final', test_noise='none'),
    'initial': dict(output='initial'),
}


def evaluate(cfg: Config, checkpoint: str, work_dir: str, mode: Dict) -> Dict[str, float]:
    """Test metrics of ``checkpoint`` with the head/test settings of ``mode``."""
    from mmdmtl.registry import RUNNERS
    cfg = copy.deepcopy(cfg)  # the modes must not leak into each other's configs
    cfg.model.test_cfg = dict(cfg.model.get('test_cfg') or {}, output=mode['output'])
    if 'test_noise' in mode:
        cfg.model.decode_head.test_noise = mode['test_noise']
    cfg.load_from = checkpoint
    cfg.resume = False
    cfg.work_dir = work_dir
    cfg.default_hooks.visualization = dict(type='MTLVisualizationHook', draw=False)
    runner = RUNNERS.build(cfg)
    metrics = runner.test()
    return {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float))}


#: keys of the discontinuity split: {task: (at, off)}
DISC_KEYS = {'depth': ('depth/absErr_at_disc', 'depth/absErr_off_disc'),
             'normal': ('normal/mean_at_disc', 'normal/mean_off_disc')}
#: metric types that split their error at discontinuities (``disc_width``)
DISC_METRICS = ('MTLDepthMetric', 'SurfaceNormalMetric')


def with_disc_split(cfg: Config, width: int, required: str = 'test_evaluator') -> Config:
    """A copy of ``cfg`` whose depth and normal metrics (in ``val_evaluator``
    and ``test_evaluator``, alone, in a list or in a ``MultiTaskMetric``'s
    ``task_metrics``) split their error at discontinuities (``disc_width``).

    Raises:
        SystemExit: the ``required`` evaluator has no such metric.
    """
    cfg = copy.deepcopy(cfg)
    found = []

    def visit(node, where):
        if isinstance(node, (list, tuple)):
            for sub in node:
                visit(sub, where)
        elif isinstance(node, dict):
            if node.get('type') in DISC_METRICS:
                node['disc_width'] = width
                found.append(where)
            visit(node.get('task_metrics', []), where)

    for key in ('val_evaluator', 'test_evaluator'):
        visit(cfg.get(key), key)
    if required not in found:
        raise SystemExit(f'--disc-width: {required} has no ' + ' or '.join(DISC_METRICS))
    return cfg


def disc_table(results: Dict[str, Dict[str, float]]) -> list:
    """Markdown lines: per mode, the depth / normal error at and off the
    discontinuities, with the change from ``initial``."""
    tasks = [t for t, keys in DISC_KEYS.items() if keys[0] in results['initial']]
    if not tasks:
        return []
    pct = ', '.join(f'{t} {results["initial"][f"{t}/disc_pct"]:.1f} %' for t in tasks)
    head = ' | '.join(f'{t} at disc. | {t} off disc.' for t in tasks)
    lines = ['', f'Errors at and off the ground truth\'s discontinuities (share of the valid '
             f'pixels at them: {pct}); in brackets: change from `initial`.', '',
             f'| predictions | {head} |', '|---|' + '---|' * (2 * len(tasks))]
    base = results['initial']
    for name, met in results.items():
        cells = [f'{met[k]:.4f}' + ('' if name == 'initial' else f' ({met[k] - base[k]:+.4f})')
                 for t in tasks for k in DISC_KEYS[t]]
        lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    return lines


def use_split(cfg: Config, split: str, source: str) -> Config:
    """``cfg`` with its test loop on ``split``: unchanged for ``'test'``; for
    ``'val'`` the test dataloader and evaluator become the validation ones.

    Raises:
        SystemExit: ``split='val'`` and ``source`` (the config file) has no
            ``val_dataloader`` or ``val_evaluator``.
    """
    if split == 'test':
        return cfg
    missing = [k for k in ('val_dataloader', 'val_evaluator') if not cfg.get(k)]
    if missing:
        raise SystemExit(f'{source}: --split val needs {" and ".join(missing)} in the config')
    cfg = cfg.copy()
    cfg.test_dataloader = cfg.val_dataloader
    cfg.test_evaluator = cfg.val_evaluator
    return cfg


def choose_outputs(results: Dict[str, Dict[str, float]], tasks: Sequence[str]) -> Dict[str, str]:
    """Per task, ``'final'`` where the refined map (mode ``final``) scores at
    least as well as the initial one on its headline metric, else
    ``'initial'``."""
    choice = {}
    for t in tasks:
        key, higher = HEADLINE[t]
        refined, initial = results['final'][key], results['initial'][key]
        not_worse = refined >= initial if higher else refined <= initial
        choice[t] = 'final' if not_worse else 'initial'
    return choice


def summarize(dirs, out: str) -> None:
    """Write ``refinement_summary.md`` / ``.json`` in ``out`` from the
    ``refinement.json`` files in ``dirs`` (one per run)."""
    import pandas as pd

    from mmdmtl.experiments.reporting import refinement_summary, refinement_summary_markdown
    results = []
    for d in dirs:
        path = osp.join(d, 'refinement.json')
        if not osp.isfile(path):
            raise SystemExit(f'--summarize: no refinement.json in {d} (run the analysis '
                             'of that checkpoint first)')
        with open(path) as f:
            results.append(json.load(f))
    tasks = [t for t, (key, _) in HEADLINE.items()
             if all(key in r.get('initial', {}) for r in results)]
    if not tasks:
        raise SystemExit('--summarize: the analyses share no task headline metric')
    summary = refinement_summary(results, tasks)
    intro = (f'{len(results)} runs: ' + ', '.join(f'`{d}`' for d in dirs) + '. Mean ± std over '
             'the runs; in brackets the paired change from `initial` (mean ± std) and in how '
             'many runs the mode is better than `initial`.')
    md = refinement_summary_markdown(summary, tasks, intro=intro)
    # the errors at / off discontinuities, where every analysis has them (--disc-width)
    disc = {key: (key, False) for keys in DISC_KEYS.values() for key in keys
            if all(key in r.get('initial', {}) for r in results)}
    if disc:
        disc_summary = refinement_summary(results, list(disc), metrics=disc)
        md += '\n' + refinement_summary_markdown(
            disc_summary, list(disc), metrics=disc,
            intro="Errors at and off the ground truth's discontinuities (--disc-width).")
        summary = pd.concat([summary, disc_summary], ignore_index=True)
    os.makedirs(out, exist_ok=True)
    with open(osp.join(out, 'refinement_summary.md'), 'w') as f:
        f.write(md)
    summary.to_json(osp.join(out, 'refinement_summary.json'), orient='records', indent=1)
    print(md)
    print(f'[analyze_refinement] wrote {out}/refinement_summary.md and .json')


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config', nargs='?')
    p.add_argument('checkpoint', nargs='?')
    p.add_argument('--summarize', nargs='+', metavar='DIR',
                   help='folders holding refinement.json of earlier analyses: '
                   'summarise them instead of evaluating a checkpoint')
    p.add_argument('--out', default=None, help='folder for refinement.json / .md '
                   '(default: next to the checkpoint)')
    p.add_argument('--split', choices=('test', 'val'), default='test',
                   help='evaluate on the test set (default) or on the validation set, '
                   'where the per-task output choice is made (output_choice.json)')
    p.add_argument('--test-choice', action='store_true',
                   help='with --split val: also evaluate the chosen per-task output on the '
                   'test set (test_metrics_choice.json)')
    p.add_argument('--disc-width', type=int, default=None, metavar='W',
                   help='also split the depth / normal errors at the ground truth\'s '
                   'discontinuities (within W pixels) from the rest')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = p.parse_args(argv)
    if args.disc_width is not None and args.disc_width < 0:
        p.error(f'--disc-width must be >= 0, got {args.disc_width}')
    if args.summarize:
        if args.config or args.checkpoint:
            p.error('--summarize takes analysis folders, not CONFIG CHECKPOINT')
        if not args.out:
            p.error('--summarize needs --out')
        summarize(args.summarize, args.out)
        return
    if not (args.config and args.checkpoint):
        p.error('CONFIG and CHECKPOINT are required (or --summarize DIR ...)')
    if args.test_choice and args.split != 'val':
        p.error('--test-choice needs --split val (the choice is made on validation)')

    from mmengine.registry import init_default_scope

    import mmdmtl  # noqa: F401
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    head = cfg.model.decode_head
    if head.get('type') != 'DiffusionMTLHead':
        raise SystemExit(f'{args.config}: the head is {head.get("type")}, not '
                         'DiffusionMTLHead; there is no refinement to analyse')
    if not osp.isfile(args.checkpoint):
        raise SystemExit(f'checkpoint not found: {args.checkpoint}')
    if args.disc_width is not None:
        cfg = with_disc_split(cfg, args.disc_width, f'{args.split}_evaluator')
    test_set_cfg, cfg = cfg, use_split(cfg, args.split, args.config)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    out = args.out or osp.dirname(osp.abspath(args.checkpoint))
    os.makedirs(out, exist_ok=True)
    results = {}
    for name, mode in MODES.items():
        print(f'[analyze_refinement] evaluating: {name}', flush=True)
        results[name] = evaluate(cfg, args.checkpoint,
                                 osp.join(out, 'refinement_work', name.replace(', ', '_')
                                          .replace(' ', '_')), mode)
    tasks = [t for t in head.tasks if HEADLINE.get(t, ('',))[0] in results['final']]
    cols = ' | '.join(f'{HEADLINE[t][0]} {"↑" if HEADLINE[t][1] else "↓"}' for t in tasks)
    lines = [f'Checkpoint `{args.checkpoint}` (variant {head.get("variant", "feature")}, '
             f'refine_mode {head.get("refine_mode", "direct")}, '
             f'T={head.get("num_timesteps", 2)}), {args.split} set; in brackets: change from '
             '`initial`.', '',
             f'| predictions | {cols} |', '|---|' + '---|' * len(tasks)]
    base = results['initial']
    for name, met in results.items():
        cells = []
        for t in tasks:
            key = HEADLINE[t][0]
            diff = met[key] - base[key]
            cells.append(f'{met[key]:.4f}' + ('' if name == 'initial' else f' ({diff:+.4f})'))
        lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    lines += disc_table(results)
    if args.split == 'val':
        choice = choose_outputs(results, tasks)
        with open(osp.join(out, 'output_choice.json'), 'w') as f:
            json.dump(choice, f, indent=1)
        kept = [t for t, m in choice.items() if m == 'initial']
        opts = ' '.join(f'model.test_cfg.output.{t}=initial' for t in kept)
        lines += ['', 'Per-task output chosen on this validation set (output_choice.json): '
                  + ', '.join(f'{t}: {m}' for t, m in choice.items()) + '.',
                  f'Test with it: `tools/test.py CONFIG CHECKPOINT --cfg-options {opts}`'
                  if kept else 'The refined map is kept for every task.']
        if args.test_choice:
            print('[analyze_refinement] evaluating the choice on the test set', flush=True)
            met = evaluate(test_set_cfg, args.checkpoint,
                           osp.join(out, 'refinement_work', 'choice_test'), dict(output=choice))
            with open(osp.join(out, 'test_metrics_choice.json'), 'w') as f:
                json.dump(met, f, indent=1)
            lines += ['', 'Test set with this choice (test_metrics_choice.json): ' + ', '.join(
                f'{HEADLINE[t][0]} {met[HEADLINE[t][0]]:.4f}' for t in tasks) + '.']
    md = '\n'.join(lines) + '\n'
    with open(osp.join(out, 'refinement.md'), 'w') as f:
        f.write(md)
    with open(osp.join(out, 'refinement.json'), 'w') as f:
        json.dump(results, f, indent=1)
    print(md)
    print(f'[analyze_refinement] wrote {out}/refinement.md and refinement.json')


if __name__ == '__main__':
    main()
