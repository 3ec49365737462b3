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
        [--cfg-options k=v ...]
"""
import argparse
import json
import os
import os.path as osp
from typing import Dict, Tuple

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
    cfg = cfg.copy()
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


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--out', default=None, help='folder for refinement.json / .md '
                   '(default: next to the checkpoint)')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = p.parse_args(argv)

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
             f'T={head.get("num_timesteps", 2)}); in brackets: change from `initial`.', '',
             f'| predictions | {cols} |', '|---|' + '---|' * len(tasks)]
    base = results['initial']
    for name, met in results.items():
        cells = []
        for t in tasks:
            key = HEADLINE[t][0]
            diff = met[key] - base[key]
            cells.append(f'{met[key]:.4f}' + ('' if name == 'initial' else f' ({diff:+.4f})'))
        lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    md = '\n'.join(lines) + '\n'
    with open(osp.join(out, 'refinement.md'), 'w') as f:
        f.write(md)
    with open(osp.join(out, 'refinement.json'), 'w') as f:
        json.dump(results, f, indent=1)
    print(md)
    print(f'[analyze_refinement] wrote {out}/refinement.md and refinement.json')


if __name__ == '__main__':
    main()
