"""Print the fully merged config (all ``_base_`` files and ``--cfg-options``
applied), as mmseg's ``tools/misc/print_config.py`` does::

    python tools/misc/print_config.py configs/diffusionmtl_nyud.py \\
        --cfg-options model.decode_head.num_timesteps=3 [--save-path merged.py]
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from mmengine.config import Config, DictAction  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='Print the whole merged config')
    p.add_argument('config', help='config file path')
    p.add_argument('--save-path', help='also write the merged config here (.py/.json/.yaml)')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='override settings, key=value (as tools/train.py)')
    return p.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> Config:
    args = parse_args(argv)
    if not osp.isfile(args.config):
        raise SystemExit(f'print_config: config file {args.config} does not exist')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    print(f'Config:\n{cfg.pretty_text}')
    if args.save_path:
        suffix = osp.splitext(args.save_path)[1]
        if suffix not in ('.py', '.json', '.yml', '.yaml'):
            raise SystemExit(f'print_config: --save-path must end in .py, .json, .yml or '
                             f'.yaml, got {args.save_path}')
        cfg.dump(args.save_path)
        print(f'Config saved to {args.save_path}')
    return cfg


if __name__ == '__main__':
    main()
