"""Worker of the reliability tests: train or test a config with MTLRunner,
in one process or under ``torchrun`` (``--launcher pytorch``).

``--mode train`` writes ``<out>/rank<r>.pth`` (the model's state dict as seen
by rank ``r`` after training); ``--mode test`` writes ``<out>/metrics.json``
(rank 0) with the test metrics of ``--checkpoint``.
"""
import argparse
import json
import os
import os.path as osp

import torch
from mmengine.config import Config, DictAction
from mmengine.dist import get_rank


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('config')
    parser.add_argument('--mode', choices=['train', 'test'], required=True)
    parser.add_argument('--work-dir', required=True)
    parser.add_argument('--out', required=True)
    parser.add_argument('--checkpoint')
    parser.add_argument('--launcher', default='none')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', '0')

    from mmengine.registry import init_default_scope

    import mmdmtl  # noqa: F401
    from mmdmtl.registry import RUNNERS
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    cfg.work_dir = args.work_dir
    cfg.log_level = 'WARNING'
    if args.mode == 'test':
        cfg.load_from = args.checkpoint
        cfg.resume = False
    init_default_scope('mmseg')
    runner = RUNNERS.build(cfg)
    os.makedirs(args.out, exist_ok=True)
    if args.mode == 'train':
        runner.train()
        model = getattr(runner.model, 'module', runner.model)
        torch.save({k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
                   osp.join(args.out, f'rank{get_rank()}.pth'))
    else:
        metrics = runner.test()
        if get_rank() == 0:
            with open(osp.join(args.out, 'metrics.json'), 'w') as f:
                json.dump({k: float(v) for k, v in metrics.items()}, f, indent=1)


if __name__ == '__main__':
    main()
