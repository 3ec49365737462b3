"""Predict every task of a trained mmdmtl model for one image and draw them
(mmseg's ``demo/image_demo.py`` convention)::

    python demo/image_demo.py IMAGE CONFIG CHECKPOINT [--out-file result.png]
        [--device cpu] [--stochastic]

Writes one picture: the image, then each task's prediction (semantic
colours, depth colour map with its scale, normals as RGB, edges in grey).
For folders, raw arrays and per-task pictures use ``tools/infer.py``.
"""
import argparse
import os
import os.path as osp
import sys
from typing import List, Optional

import cv2
import numpy as np

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='mmdmtl image demo')
    p.add_argument('img', help='image file (any format OpenCV reads, or an MTAN .npy)')
    p.add_argument('config', help='config file')
    p.add_argument('checkpoint', help='checkpoint file')
    p.add_argument('--out-file', default='result.png', help='picture to write')
    p.add_argument('--device', default=None, help='cpu, cuda, ... (default: auto)')
    p.add_argument('--stochastic', action='store_true',
                   help='keep the random test-time diffusion noise of the official code')
    return p.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> np.ndarray:
    """Run the demo; returns the drawn RGB picture."""
    args = parse_args(argv)
    for path, what in ((args.img, 'image'), (args.config, 'config'),
                       (args.checkpoint, 'checkpoint')):
        if not osp.isfile(path):
            raise SystemExit(f'image_demo: {what} file {path} does not exist')
    from mmdmtl.apis import MTLInferencer
    inferencer = MTLInferencer(args.config, args.checkpoint, device=args.device,
                               deterministic=not args.stochastic)
    result = inferencer(args.img)[0]
    image = inferencer.read(args.img)['img']  # as the test pipeline loads it
    picture = inferencer.render(result, np.asarray(image))['overview']
    os.makedirs(osp.dirname(osp.abspath(args.out_file)), exist_ok=True)
    cv2.imwrite(args.out_file, np.ascontiguousarray(picture[..., ::-1]))
    print(f'{", ".join(inferencer.tasks)} predicted for {args.img}; picture written to '
          f'{args.out_file}')
    return picture


if __name__ == '__main__':
    main()
