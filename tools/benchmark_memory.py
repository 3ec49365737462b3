"""Measure the resident memory (RSS) of a long CPU training run.

Trains a tiny version of a config (default: the quick-start config at
48x64, 16 images, batch 2, no workers, no validation, no checkpoints) for
``--iters`` iterations in this process and prints the RSS every
``--interval`` iterations, plus the growth after the warm-up::

    python tools/benchmark_memory.py [CONFIG] [--iters 200] [--interval 20]
        [--data-root DIR] [--full-size] [--cfg-options k=v ...]

A leak (e.g. a tensor kept in a list per step) shows as a steady increase
after warm-up; allocator noise is a few MB.
"""
import argparse
import os
import os.path as osp
import sys
import tempfile
import time
from typing import List, Tuple

from mmengine.config import Config, DictAction
from mmengine.hooks import Hook

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEFAULT_CONFIG = osp.join(ROOT, 'configs', 'diffusionmtl',
                          'diffusionmtl_r18-lite_1xb8-1k_synthetic-96x128.py')
TINY = dict(num_train=16, num_val=4, height=48, width=64, seed=0)


def rss_mb() -> float:
    """Resident set size of this process in MiB (Linux /proc, else psutil)."""
    try:
        with open('/proc/self/statm') as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf('SC_PAGE_SIZE') / 2**20
    except OSError:
        import psutil
        return psutil.Process().memory_info().rss / 2**20


class RSSRecorderHook(Hook):
    """Record ``(iteration, RSS MiB, seconds)`` after every ``interval``
    training iterations (and after the first)."""

    priority = 'LOWEST'

    def __init__(self, interval: int) -> None:
        self.interval = interval
        self.records: List[Tuple[int, float, float]] = []
        self._t0 = time.perf_counter()

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        it = runner.iter + 1
        if it == 1 or it % self.interval == 0:
            self.records.append((it, rss_mb(), time.perf_counter() - self._t0))


def tiny_config(cfg: Config, data_root: str, iters: int, full_size: bool) -> Config:
    """Shrink ``cfg`` to a tiny CPU run without validation or checkpoints."""
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].num_workers = 0
        cfg[key].persistent_workers = False
        cfg[key].dataset.data_root = data_root
        if not full_size:
            cfg[key].dataset.update(TINY)
    cfg.train_dataloader.batch_size = 2
    if not full_size:
        size = (TINY['height'], TINY['width'])
        cfg.model.data_preprocessor.size = size
        for t in cfg.train_dataloader.dataset.pipeline:
            if t['type'] in ('MTLRandomCrop', ):
                t['crop_size'] = size
            elif t['type'] == 'MTLPad':
                t['size'] = size
            elif t['type'] == 'MTLRandomResize':
                t['scale'] = (size[1], size[0])
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters, val_interval=10**9,
                         val_begin=10**9)
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0, begin=0, end=iters,
                                by_epoch=False)]
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=10**9,
                                        by_epoch=False, save_last=False)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=10**9)
    cfg.default_hooks.pop('visualization', None)
    cfg.log_level = 'WARNING'
    return cfg


def main() -> None:
    parser = argparse.ArgumentParser(description='RSS over a long CPU training run')
    parser.add_argument('config', nargs='?', default=DEFAULT_CONFIG)
    parser.add_argument('--iters', type=int, default=200)
    parser.add_argument('--interval', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=20,
                        help='iterations excluded from the growth estimate')
    parser.add_argument('--data-root', help='synthetic data cache (default: a temp dir)')
    parser.add_argument('--full-size', action='store_true',
                        help="keep the config's image size and dataset")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()

    import torch
    from mmengine.registry import init_default_scope

    import mmdmtl  # noqa: F401
    from mmdmtl.registry import RUNNERS

    tmp = tempfile.TemporaryDirectory()
    data_root = args.data_root or osp.join(tmp.name, 'synthetic')
    cfg = tiny_config(Config.fromfile(args.config), data_root, args.iters, args.full_size)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = osp.join(tmp.name, 'work')
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    runner = RUNNERS.build(cfg)
    hook = RSSRecorderHook(args.interval)
    runner.register_hook(hook)
    start = rss_mb()
    runner.train()

    print(f'config: {osp.relpath(args.config, ROOT)}  iterations: {args.iters}  '
          f'torch threads: {torch.get_num_threads()}  RSS before training: {start:.1f} MiB')
    print(f'{"iter":>6} | {"RSS MiB":>9} | {"vs. iter 1":>10} | {"s/iter":>7}')
    print('-' * 42)
    first = hook.records[0][1]
    prev_it, prev_t = 0, 0.0
    for it, rss, t in hook.records:
        print(f'{it:>6} | {rss:>9.1f} | {rss - first:>+10.1f} | '
              f'{(t - prev_t) / max(it - prev_it, 1):>7.3f}')
        prev_it, prev_t = it, t
    after = [(it, rss) for it, rss, _ in hook.records if it >= args.warmup]
    if len(after) >= 2:
        (i0, r0), (i1, r1) = after[0], after[-1]
        slope = (r1 - r0) / (i1 - i0) * 100
        print(f'growth after warm-up (iter {i0} -> {i1}): {r1 - r0:+.1f} MiB '
              f'({slope:+.2f} MiB / 100 iterations)')
    tmp.cleanup()
    sys.stdout.flush()


if __name__ == '__main__':
    main()
