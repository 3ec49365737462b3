"""Paper-style experiment runner (Table 3 of DiffusionMTL) on any dataset
config, by default the embedded synthetic dataset.

For every label setting (``--splits``) and seed it trains and evaluates the
compared methods, each defined by a config fragment in
``configs/_base_/experiments/methods/`` (``stl`` single-task models, one
per task; ``mtl`` MTL baseline; ``pred`` / ``feat`` DiffusionMTL;
``no_cond`` / ``no_diff`` ablations; ``pred_direct`` / ``feat_direct`` the
paper's direct refinement; ``pred_anchored`` / ``pred_anchored_guided`` the
anchored refinement; ``stagewise`` a refinement stage trained on top of each
seed's MTL baseline and ``mtl_finetune`` its control, the same extra
iterations spent on the baseline's own head; these run only when listed in
``--methods``; or your own fragment given as a path), then writes ``results.md`` (mean ± std over
seeds and Δm against the single-task models of the same split, like the
paper's Table 3), ``results.json``, ``delta_m.png`` and
``learning_curves_<split>.png`` into ``--out``. Each run is a subprocess;
finished runs are reused when the script is started again; ``--jobs N``
runs N of them at a time.

With ``--label-fractions 5 10 25 50 100`` it runs the label-efficiency sweep
instead: the multi-task ``--methods`` trained with every task labelled on
P% of the images, against single-task models trained on 100%; it writes
``label_efficiency.md``, ``.json`` and ``.png``.

``--protocol pretrained`` runs either under the benchmark protocol of
docs/en/experiments.md: a shared backbone pretrained once on disjoint scenes
(``--pretrain-iters``; ``--pretrain-only`` stops after it), Adam with the
paper's poly schedule scaled to ``--iters``, the best validation checkpoint
tested on separate test scenes.

Examples::

    python tools/run_experiments.py --seeds 0 1 2 --iters 300 --jobs 2 \
        --out work_dirs/experiments/summary
    python tools/run_experiments.py --label-fractions 5 10 25 50 100 \
        --methods mtl pred --seeds 0 --iters 300 --jobs 2
    python tools/run_experiments.py --protocol pretrained --seeds 0 1 2 \
        --iters 2000 --pretrain-iters 4000 --jobs 2 --work-dir work_dirs/protocol \
        --out work_dirs/protocol/table3
"""
import argparse
import os.path as osp

from mmengine.config import DictAction

from mmdmtl.experiments import (
    DEFAULT_CONFIG,
    DEFAULT_METHODS,
    ExperimentSettings,
    ProtocolSettings,
    available_methods,
    canonical_split,
    pretrain_backbone,
    resolve_with_parents,
    run_sweep,
    run_table,
    worker,
)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--config', default=DEFAULT_CONFIG,
                   help='base config (its head and dataset are modified)')
    p.add_argument('--tasks', nargs='+', default=None,
                   help='tasks (default: those of the config)')
    p.add_argument('--splits', nargs='+', default=['onelabel', 'randomlabels'],
                   help='label settings: onelabel, randomlabels, full or frac<P> '
                   '(every task labelled on P%% of the images)')
    p.add_argument('--methods', nargs='+', default=list(DEFAULT_METHODS),
                   help=f'methods: {", ".join(available_methods())} or paths to '
                   'method config fragments (default: '
                   f'{" ".join(DEFAULT_METHODS)})')
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
    g = p.add_argument_group('benchmark protocol (--protocol pretrained)')
    g.add_argument('--protocol', choices=['default', 'pretrained'], default='default',
                   help="'pretrained': shared pretrained backbone, paper-like Adam/poly "
                   'schedule, best validation checkpoint, separate test scenes')
    g.add_argument('--pretrain-iters', type=int, default=2000,
                   help='iterations of the shared backbone pretraining')
    g.add_argument('--pretrain-seed', type=int, default=1,
                   help='generator seed of the pretraining scenes')
    g.add_argument('--pretrained', default=None, metavar='CKPT',
                   help='backbone-only checkpoint to start from (skips pretraining)')
    g.add_argument('--pretrain-only', action='store_true',
                   help='pretrain the shared backbone, print its path and stop')
    g.add_argument('--test-seed', type=int, default=2,
                   help='generator seed of the test scenes')
    g.add_argument('--num-test', type=int, default=None,
                   help='test images (default: the config num_val)')
    g.add_argument('--val-evals', type=int, default=5,
                   help='validations per run (checkpoint choice)')
    g.add_argument('--lr', type=float, default=None,
                   help='Adam learning rate (default: the paper lr scaled to --iters)')
    p.add_argument('--worker', nargs=2, metavar=('CFG', 'OUT_JSON'),
                   help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.worker:
        worker(*args.worker)
        return
    for split in args.splits:  # before any run: a misnamed setting would be filed apart
        try:
            name = canonical_split(split)
        except ValueError as e:
            raise SystemExit(f'--splits: {e}') from None
        if name != split:
            raise SystemExit(f'--splits: label setting {split!r} is filed as {name!r}; '
                             f'pass {name}')
    from mmengine.config import Config
    tasks = args.tasks or list(Config.fromfile(args.config).tasks)
    try:
        methods = resolve_with_parents(['stl', 'mtl', 'pred', *args.methods])
    except (KeyError, FileNotFoundError, ValueError) as e:
        raise SystemExit(f'--methods: {e}') from None
    names = [osp.splitext(osp.basename(m))[0] for m in args.methods]
    settings = ExperimentSettings(config=args.config, work_dir=args.work_dir,
                                  iters=args.iters, all_tasks=tasks, methods=methods,
                                  force=args.force, cfg_options=args.cfg_options)
    if args.protocol == 'pretrained':
        pretrained = args.pretrained or pretrain_backbone(
            args.config, tasks, args.pretrain_iters, args.work_dir, seed=args.pretrain_seed,
            force=args.force, cfg_options=args.cfg_options)
        print(f'[run_experiments] shared backbone: {pretrained}', flush=True)
        if args.pretrain_only:
            return
        settings.protocol = ProtocolSettings(
            pretrained=pretrained, val_evals=args.val_evals, test_seed=args.test_seed,
            num_test=args.num_test, lr=args.lr)
    elif args.pretrain_only or args.pretrained:
        raise SystemExit('--pretrain-only and --pretrained need --protocol pretrained')
    if args.label_fractions:
        run_sweep(settings, names, args.label_fractions, args.seeds, args.jobs, args.out)
    else:
        run_table(settings, names, args.splits, args.seeds, args.jobs, args.out)


if __name__ == '__main__':
    main()
