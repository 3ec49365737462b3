"""Benchmark the synthetic dataset generator (not a test).

Prints a table of images per second for rendering only (one process) and
for full generation to disk (rendering + writing ``.npy`` files) with 1 and
all workers::

    python tools/benchmark_synthetic.py [--num 300] [--height 96] [--width 128]
"""
import argparse
import os
import os.path as osp
import sys
import tempfile
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmdmtl.datasets.synthetic import ensure_synthetic_dataset, render_scene  # noqa: E402


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description='Synthetic dataset generation speed')
    p.add_argument('--num', type=int, default=300, help='images per measurement')
    p.add_argument('--height', type=int, default=96)
    p.add_argument('--width', type=int, default=128)
    p.add_argument('--workers', type=int, nargs='*', default=None,
                   help='worker counts to measure (default: 1 and all cores)')
    args = p.parse_args(argv)
    cores = os.cpu_count() or 1
    workers = args.workers or sorted({1, min(cores, 8)})

    rows = []
    render_scene(0, args.height, args.width)  # warm-up
    t0 = time.perf_counter()
    for i in range(args.num):
        render_scene(i, args.height, args.width)
    dt = time.perf_counter() - t0
    rows.append(('render only (in memory)', 1, args.num, dt))
    for w in workers:
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            ensure_synthetic_dataset(osp.join(tmp, 'd'), num_train=args.num, num_val=0,
                                     height=args.height, width=args.width, progress=False,
                                     num_workers=w)
            rows.append(('generate to disk (.npy)', w, args.num, time.perf_counter() - t0))

    print(f'\nsynthetic generator, {args.height}x{args.width}, {cores} CPU cores')
    print(f'{"mode":<26}{"workers":>8}{"images":>8}{"seconds":>9}{"img/s":>9}'
          f'{"s / 3000 img":>14}')
    for mode, w, n, dt in rows:
        print(f'{mode:<26}{w:>8}{n:>8}{dt:>9.2f}{n / dt:>9.1f}{3000 * dt / n:>14.1f}')


if __name__ == '__main__':
    main()
