"""Render the embedded synthetic multi-task dataset to disk.

Writes one *generation* into ``DATA_ROOT/gen-v<version>_n<train>-<val>_<H>x<W>_seed<seed>/``:
the MTAN NYUv2 ``.npy`` layout (``{train,val}/{image,label,depth,normal,
edge}/{i}.npy``), one-label / random-label partial-label splits under
``splits/`` and ``meta.json``; prints that folder. Does nothing if the
generation already exists. Other parameters make another generation beside
it; nothing is ever deleted, and a non-empty ``DATA_ROOT`` that the
generator did not write is refused (exit status 1)::

    python tools/generate_synthetic_dataset.py data/synthetic \\
        [--num-train 1000] [--num-val 200] [--height 96] [--width 128] \\
        [--seed 0] [--workers N] [--preview preview.png]
"""
import argparse
import os.path as osp
import sys
import time

import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmdmtl.datasets.synthetic import (  # noqa: E402
    SYNTHETIC_PALETTE,
    SyntheticDataRootError,
    ensure_synthetic_dataset,
)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='Generate the synthetic indoor multi-task dataset')
    p.add_argument('data_root', help='output folder (cache)')
    p.add_argument('--num-train', type=int, default=1000)
    p.add_argument('--num-val', type=int, default=200)
    p.add_argument('--height', type=int, default=96)
    p.add_argument('--width', type=int, default=128)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--workers', type=int, default=None,
                   help='rendering processes (default: all cores, at most 8)')
    p.add_argument('--no-progress', action='store_true', help='hide the progress bar')
    p.add_argument('--preview', default=None,
                   help='also write a PNG showing the first val images and their labels')
    return p.parse_args(argv)


def write_preview(data_root: str, path: str, num: int = 4) -> None:
    """Rows of image | label | depth | normal | edge for val images 0..num-1."""
    import cv2
    palette = np.array(SYNTHETIC_PALETTE + [[0, 0, 0]], dtype=np.uint8)  # -1 -> black
    rows = []
    for i in range(num):
        load = lambda f: np.load(osp.join(data_root, 'val', f, f'{i}.npy'))  # noqa: E731
        try:
            img, lab, dep, nrm, edg = (load(f) for f in
                                       ('image', 'label', 'depth', 'normal', 'edge'))
        except FileNotFoundError:
            break
        gray = lambda x: np.repeat(x[..., None], 3, -1)  # noqa: E731
        dep = dep[..., 0]
        dep_vis = np.clip(dep / max(float(dep.max()), 1e-6), 0, 1)
        rows.append(np.concatenate([
            (img * 255).astype(np.uint8), palette[lab.astype(np.int64)],
            gray((dep_vis * 255).astype(np.uint8)), ((nrm + 1) * 127.5).astype(np.uint8),
            gray(edg * 255)], axis=1))
    if rows:
        cv2.imwrite(path, cv2.cvtColor(np.concatenate(rows, 0), cv2.COLOR_RGB2BGR))
        print(f'preview written to {path}')


def main(argv=None) -> None:
    args = parse_args(argv)
    t0 = time.perf_counter()
    try:
        root = ensure_synthetic_dataset(args.data_root, num_train=args.num_train,
                                        num_val=args.num_val, height=args.height,
                                        width=args.width, seed=args.seed,
                                        progress=not args.no_progress,
                                        num_workers=args.workers)
    except SyntheticDataRootError as e:
        sys.exit(f'error: {e}')
    print(f'synthetic dataset ready in {root} ({time.perf_counter() - t0:.1f} s)')
    if args.preview:
        write_preview(root, args.preview)


if __name__ == '__main__':
    main()
