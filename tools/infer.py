"""Run a trained mmdmtl model on your own images.

    python tools/infer.py CONFIG CHECKPOINT INPUT [--out-dir DIR]
        [--device cpu|cuda] [--batch-size N] [--stochastic]

INPUT is an image (.png/.jpg/... or an MTAN-style .npy) or a folder of them.
For every image it writes, into ``--out-dir``, the raw per-task arrays
(``NAME_semseg.npy``, ``NAME_depth.npy`` metres, ``NAME_normal.npy`` HxWx3,
...), a picture per task (``NAME_<task>.png``: semantic colours, depth colour
map, normals as RGB, edges/saliency grey) and ``NAME_overview.png``.
"""
import argparse
import os.path as osp

import numpy as np
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
    return p.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    from mmdmtl.apis import MTLInferencer, list_images
    from mmdmtl.datasets.transforms import LoadMultiTaskImage
    files = list_images(args.input)
    inferencer = MTLInferencer(args.config, args.checkpoint, device=args.device,
                               deterministic=not args.stochastic)
    loader = LoadMultiTaskImage()
    for start in tqdm(range(0, len(files), args.batch_size), desc='images',
                      disable=len(files) < 2):
        chunk = files[start:start + args.batch_size]
        results = inferencer(chunk, batch_size=args.batch_size)
        for path, result in zip(chunk, results):
            image = loader(dict(img_path=path, seg_fields=[]))['img']
            name = osp.splitext(osp.basename(path))[0]
            inferencer.save(result, args.out_dir, name, image=np.asarray(image))
    print(f'wrote predictions of {len(files)} image(s) for tasks {inferencer.tasks} '
          f'to {args.out_dir}')


if __name__ == '__main__':
    main()
