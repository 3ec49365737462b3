"""Quick start: train DiffusionMTL on the embedded synthetic dataset, evaluate
it, and draw pictures — a few minutes on 2 CPU cores, no download.

    python tools/quickstart.py [--work-dir work_dirs/quickstart] [--iters N]

Leaves in the work dir: the checkpoint(s) and training log, ``results.md``
(test metrics as a table, beside those of a trivial constant predictor),
``metrics.json``, ``metrics_trivial.json`` and ``vis/`` with one picture per
validation image (the image; ground truth beside prediction per task).
"""
import argparse
import json
import os
import os.path as osp
import time
from typing import Optional

HERE = osp.dirname(osp.abspath(__file__))
DEFAULT_CONFIG = osp.join(osp.dirname(HERE), 'configs', 'diffusionmtl',
                          'diffusionmtl_r18-lite_1xb8-1k_synthetic-96x128.py')


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--config', default=DEFAULT_CONFIG)
    p.add_argument('--work-dir', default='work_dirs/quickstart')
    p.add_argument('--iters', type=int, default=None,
                   help='training iterations (default: the config\'s)')
    return p.parse_args(argv)


def results_table(metrics: dict, trivial: Optional[dict] = None) -> str:
    """Markdown table of ``{'task/metric': value}``, with the trivial
    (constant) predictor's value beside each metric when given."""
    if trivial is None:
        rows = ['| metric | value |', '|---|---|']
    else:
        rows = ['| metric | trained model | trivial (constant prediction) |', '|---|---|---|']
    for k in sorted(metrics):
        v = metrics[k]
        cell = f'{v:.4f}' if isinstance(v, float) else f'{v}'
        if trivial is not None:
            t = trivial.get(k)
            cell += ' | ' + (f'{t:.4f}' if isinstance(t, float) else '–')
        rows.append(f'| {k} | {cell} |')
    return '\n'.join(rows) + '\n'


def main(argv=None) -> dict:
    args = parse_args(argv)
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import mmdmtl  # noqa: F401
    from mmdmtl.registry import RUNNERS

    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    cfg.work_dir = osp.abspath(args.work_dir)
    if args.iters is not None:
        cfg.train_cfg.max_iters = args.iters
        cfg.train_cfg.val_interval = args.iters
        cfg.default_hooks.checkpoint.interval = args.iters
        for sch in cfg.param_scheduler:
            sch['end'] = min(sch.get('end', args.iters), args.iters)
            sch['begin'] = min(sch.get('begin', 0), max(0, args.iters - 1))
    t0 = time.time()
    runner = RUNNERS.build(cfg)
    runner.train()
    train_s = time.time() - t0

    # evaluate the final model on the test split and draw pictures
    vis_dir = 'vis'
    hook = cfg.default_hooks.visualization
    hook.update(draw=True, test_out_dir=vis_dir)
    cfg.default_hooks.visualization = hook
    cfg.load_from = osp.join(cfg.work_dir,
                             f'iter_{cfg.train_cfg.max_iters}.pth')
    cfg.experiment_name = f'quickstart_test_{int(time.time())}'
    tester = RUNNERS.build(cfg)
    metrics = tester.test()
    metrics = {k: float(v) for k, v in metrics.items()}
    with open(osp.join(cfg.work_dir, 'metrics.json'), 'w') as f:
        json.dump(metrics, f, indent=1)
    # the floor: a constant predictor fitted on the training labels
    from mmdmtl.evaluation.trivial_baseline import trivial_baseline_metrics
    print('[quickstart] metrics of the trivial (constant) predictor ...')
    trivial = trivial_baseline_metrics(cfg)
    with open(osp.join(cfg.work_dir, 'metrics_trivial.json'), 'w') as f:
        json.dump(trivial, f, indent=1)
    table = results_table(metrics, trivial)
    with open(osp.join(cfg.work_dir, 'results.md'), 'w') as f:
        f.write(f'Config `{osp.basename(args.config)}`, '
                f'{cfg.train_cfg.max_iters} iterations, trained in '
                f'{train_s / 60:.1f} min. The trivial predictor outputs one constant per '
                'task fitted on the training labels (most frequent class, median depth, '
                'mean normal, positive rate); it is the floor the model must clear.\n\n'
                + table)
    vis_path = osp.join(cfg.work_dir, tester.timestamp, vis_dir)
    print(table)
    print(f'[quickstart] results: {osp.join(cfg.work_dir, "results.md")}')
    if osp.isdir(vis_path):
        print(f'[quickstart] pictures: {vis_path} '
              f'({len(os.listdir(vis_path))} files)')
    return metrics


if __name__ == '__main__':
    main()
