"""Run a trained mmdmtl model on your own images.

    python tools/infer.py CONFIG CHECKPOINT INPUT [--out-dir DIR]
        [--device cpu|cuda] [--batch-size N] [--stochastic] [--skip-errors]

INPUT is an image (.png/.jpg/.tif/... 8 or 16 bit, or an MTAN-style float
.npy) or a folder of them. For every image it writes, into ``--out-dir``, the
raw per-task arrays (``NAME_semseg.npy``, ``NAME_depth.npy`` metres,
``NAME_normal.npy`` HxWx3, ...), a picture per task (``NAME_<task>.png``:
semantic colours, depth colour map, normals as RGB, edges/saliency grey) and
``NAME_overview.png``.

By default the first image that cannot be read or predicted stops the run
with its file name and the reason (exit status 1). With ``--skip-errors``
such images are skipped, the others are processed, and the skipped files are
listed with their reasons at the end (exit status 1 if any was skipped).
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional, Tuple

from tqdm import tqdm


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='mmdmtl single-image inference')
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('input', help='image file or folder')
    p.add_argument('--out-dir', default='outputs')
    p.add_argument('--device', default=None, help='cpu, cuda, cuda:1 ... (default: auto)')
    p.add_argument('--batch-size', type=int, default=1)
    p.add_argument('--stochastic', action='store_true',
                   help='keep the random test-time diffusion noise of the official code')
    p.add_argument('--skip-errors', action='store_true',
                   help='skip images that cannot be read or predicted, list them with '
                        'their reasons at the end and exit with status 1 (default: the '
                        'first such image stops the run)')
    args = p.parse_args(argv)
    if args.batch_size < 1:
        p.error(f'--batch-size must be >= 1, got {args.batch_size}')
    return args


def _reason(e: BaseException) -> str:
    return f'{type(e).__name__}: {e}'


def main(argv=None) -> int:
    """Run inference; returns the exit status (0, or 1 if an image failed)."""
    args = parse_args(argv)
    from mmdmtl.apis import MTLInferencer, list_images
    files = list_images(args.input)
    inferencer = MTLInferencer(args.config, args.checkpoint, device=args.device,
                               deterministic=not args.stochastic)
    skipped: List[Tuple[str, str]] = []

    def fail(path: str, e: Exception) -> None:
        if not args.skip_errors:
            print(f'error: cannot process {path}: {_reason(e)}\n(use --skip-errors '
                  f'to skip such images and process the others)', file=sys.stderr)
            raise SystemExit(1)
        skipped.append((path, _reason(e)))

    def save(path: str, result: dict, image) -> None:
        name = osp.splitext(osp.basename(path))[0]
        inferencer.save(result, args.out_dir, name, image=image)

    done = 0
    for start in tqdm(range(0, len(files), args.batch_size), desc='images',
                      disable=len(files) < 2):
        loaded = []
        for i, path in enumerate(files[start:start + args.batch_size]):
            try:
                results = inferencer.read(path, start + i)
                loaded.append((path, results['img'], inferencer.prepare(results)))
            except Exception as e:  # noqa: BLE001 - reported (or re-raised) by fail
                fail(path, e)
        if not loaded:
            continue
        try:
            batch: Optional[list] = inferencer.predict([x[2] for x in loaded])
        except Exception as e:  # noqa: BLE001
            if len(loaded) == 1:
                fail(loaded[0][0], e)
                continue
            batch = None  # find the culprit(s): predict one by one
        for k, (path, image, prepared) in enumerate(loaded):
            try:
                result = batch[k] if batch is not None else inferencer.predict([prepared])[0]
                save(path, result, image)
                done += 1
            except Exception as e:  # noqa: BLE001
                fail(path, e)
    print(f'wrote predictions of {done} image(s) for tasks {inferencer.tasks} '
          f'to {args.out_dir}')
    if skipped:
        print(f'skipped {len(skipped)} of {len(files)} image(s):', file=sys.stderr)
        for path, reason in skipped:
            print(f'  {path}: {reason}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
