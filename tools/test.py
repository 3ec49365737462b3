"""Evaluate a trained mmdmtl model.

Same flags as mmsegmentation's ``tools/test.py``::

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out DIR]
        [--show] [--show-dir DIR] [--wait-time S] [--cfg-options k=v ...]
        [--launcher none|pytorch|slurm|mpi]

The checkpoint is loaded with torch's safe (``weights_only``) unpickler.
``--show-dir`` writes one picture per sample (image, and per task ground
truth beside prediction) into ``<work_dir>/<timestamp>/<show-dir>``.
``--out`` dumps the raw per-sample predictions to a pickle file.
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (and evaluate) an mmdmtl model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs and metrics')
    parser.add_argument('--out', type=str, help='pickle file for the predictions')
    parser.add_argument('--show', action='store_true', help='show results in a window')
    parser.add_argument('--show-dir', help='directory where painted images will be saved')
    parser.add_argument('--wait-time', type=float, default=2, help='the interval of show (s)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file.')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def trigger_visualization_hook(cfg: Config, args: argparse.Namespace) -> Config:
    """Enable the multi-task visualization hook for --show / --show-dir."""
    default_hooks = cfg.setdefault('default_hooks', {})
    hook = default_hooks.get('visualization')
    if hook is None:
        raise RuntimeError(
            'VisualizationHook must be included in default_hooks (add '
            "visualization=dict(type='MTLVisualizationHook') to your config) "
            'to use --show or --show-dir.')
    hook['draw'] = True
    if args.show:
        hook['show'] = True
        hook['wait_time'] = args.wait_time
    if args.show_dir:
        visualizer = cfg.visualizer
        visualizer['save_dir'] = args.show_dir
        hook['test_out_dir'] = args.show_dir
    return cfg


def build_cfg(args: argparse.Namespace) -> Config:
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    cfg.resume = False
    if args.show or args.show_dir:
        cfg = trigger_visualization_hook(cfg, args)
    if args.out is not None:
        cfg.test_evaluator = cfg.test_evaluator if isinstance(
            cfg.test_evaluator, list) else [cfg.test_evaluator]
        cfg.test_evaluator.append(dict(type='DumpResults', out_file_path=args.out))
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
    runner.test()


if __name__ == '__main__':
    main()
