"""Draw what a multi-task dataset feeds the model: each sample's image and
every task's target after the pipeline, with the tasks the sample is *not*
labelled for greyed out ("unlabelled"). This is the picture that tells you
whether your partial-label split loaded right::

    python tools/analysis_tools/browse_dataset.py CONFIG --output-dir browse \\
        [--phase train|val|test] [--num 20] [--cfg-options ...]

The header of the run lists, per task, how many of the drawn samples are
labelled for it, so a mix-up of split columns is visible at once.
"""
import argparse
import os
import os.path as osp
import sys
from collections import Counter
from typing import Dict, List, Optional

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from tqdm import tqdm  # noqa: E402

import mmdmtl  # noqa: E402,F401
from mmdmtl.engine.hooks.visualization_hook import input_to_rgb  # noqa: E402
from mmdmtl.registry import DATASETS, VISUALIZERS  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='Browse a multi-task dataset (targets per task)')
    p.add_argument('config', help='config file path')
    p.add_argument('--output-dir', default=None, help='write one PNG per sample here')
    p.add_argument('--show', action='store_true', help='show in a window instead')
    p.add_argument('--phase', choices=['train', 'val', 'test'], default='train')
    p.add_argument('--num', type=int, default=20, help='number of samples (0: all)')
    p.add_argument('--show-interval', type=float, default=2, help='seconds per window')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    return p.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> Dict[str, int]:
    """Draw the samples; returns ``{task: number of drawn samples labelled}``."""
    args = parse_args(argv)
    if not args.show and not args.output_dir:
        raise SystemExit('browse_dataset: give --output-dir DIR or --show')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    dataset = DATASETS.build(cfg[f'{args.phase}_dataloader'].dataset)
    vis_cfg = dict(cfg.visualizer)
    vis_cfg.update(name='browse_dataset', save_dir=args.output_dir or 'browse_dataset')
    vis_cfg.pop('vis_backends', None)
    visualizer = VISUALIZERS.build(vis_cfg)
    visualizer.dataset_meta = dataset.metainfo
    n = len(dataset) if args.num <= 0 else min(args.num, len(dataset))
    if args.output_dir:
        os.makedirs(args.output_dir, exist_ok=True)
    labelled: Counter = Counter()
    for i in tqdm(range(n), desc='drawing', unit='sample'):
        item = dataset[i]
        sample = item['data_samples']
        mask = sample.metainfo.get('task_mask', {})
        labelled.update(t for t, on in mask.items() if on)
        name = osp.splitext(osp.basename(sample.metainfo.get('img_path', f'sample_{i}')))[0]
        out_file = osp.join(args.output_dir, f'{i:05d}_{name}.png') if args.output_dir else None
        visualizer.add_datasample(name, input_to_rgb(item['inputs']), sample, draw_gt=True,
                                  draw_pred=False, show=args.show,
                                  wait_time=args.show_interval, out_file=out_file)
    tasks = list(getattr(dataset, 'tasks', mask.keys()))
    summary = {t: labelled.get(t, 0) for t in tasks}
    print(f'{n} {args.phase} samples drawn' +
          (f' to {args.output_dir}' if args.output_dir else '') + '; labelled per task: ' +
          ', '.join(f'{t} {c}/{n}' for t, c in summary.items()))
    return summary


if __name__ == '__main__':
    main()
