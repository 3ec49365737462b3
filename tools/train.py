"""Train a multi-task model with mmdmtl.

Same flags as mmsegmentation's ``tools/train.py``::

    python tools/train.py configs/diffusionmtl_nyud.py [--work-dir DIR]
        [--resume [CKPT]] [--amp] [--cfg-options k=v ...]
        [--launcher none|pytorch|slurm|mpi]

Runs on :class:`mmdmtl.engine.MTLRunner` unless the config names another
``runner_type``; its checkpoints load with torch's safe unpickler, so
``--resume`` works on torch >= 2.6 (a file that needs full unpickling is
refused with the ``tools/convert_checkpoint.py`` command). ``--resume``
without a file continues from the newest intact checkpoint of the work dir
(skipping, with a warning, a missing or truncated one). The run locks
``<work_dir>/.lock``: a second training run in the same work dir stops with
an error naming the first.
"""
import argparse
import logging
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.logging import print_log


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train an mmdmtl model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or, without a value, from '
        'the newest intact checkpoint in the work dir')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='enable automatic mixed precision training')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file.')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torchrun passes --local-rank (older launchers --local_rank)
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def build_cfg(args: argparse.Namespace) -> Config:
    """Load the config and apply the command-line overrides."""
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)

    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])

    if args.amp:
        from mmdmtl.engine.amp import enable_amp
        enable_amp(cfg)

    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    cfg.setdefault('runner_type', 'MTLRunner')
    return cfg


def main() -> None:
    args = parse_args()
    cfg = build_cfg(args)

    from mmengine.registry import init_default_scope

    import mmdmtl  # noqa: F401  registers the plugin's modules
    from mmdmtl.registry import RUNNERS
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    runner = RUNNERS.build(cfg)
    print_log(f'Work dir: {osp.abspath(cfg.work_dir)}', logger='current',
              level=logging.INFO)
    runner.train()


if __name__ == '__main__':
    main()
