"""Parameters and MACs of an mmdmtl model, per component.

Counts with ``torch.utils.flop_counter.FlopCounterMode`` (exact per-op
counts from the dispatcher; works for any backbone and for the dict outputs
of the multi-task heads, unlike tracing-based counters) for one inference
pass at ``--shape`` and reports MACs = FLOPs / 2, which is what the
DiffusionMTL paper's "FLOPS" column counts::

    python tools/analysis_tools/get_flops.py configs/diffusionmtl_nyud.py --shape 288 384
"""
import argparse
import os.path as osp
import sys
from typing import Dict, List, Optional

import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import mmdmtl  # noqa: E402,F401
from mmdmtl.registry import MODELS  # noqa: E402

#: Components reported separately (attribute paths inside the segmentor).
COMPONENTS = ('backbone', 'neck', 'decode_head.fusion', 'decode_head.prelim_decoders',
              'decode_head.prelim_heads', 'decode_head.cond_proj', 'decode_head.denoiser',
              'decode_head.final_heads')


def count(cfg: Config, height: int, width: int) -> Dict[str, Dict[str, float]]:
    """``{component: {'params': n, 'macs': n}}`` plus ``'total'``."""
    init_default_scope('mmseg')
    cfg.model.pop('pretrained', None)
    if cfg.model.get('backbone', {}).get('init_cfg'):
        cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model).eval()
    x = torch.randn(1, 3, height, width)
    with torch.no_grad(), FlopCounterMode(display=False, depth=None) as counter:
        model(x, mode='tensor')
    flops = counter.get_flop_counts()
    out: Dict[str, Dict[str, float]] = {}
    for name, module in model.named_modules():
        if name not in COMPONENTS:
            continue
        key = f'{type(model).__name__}.{name}'
        macs = sum(flops.get(key, {}).values()) / 2
        out[name] = dict(params=sum(p.numel() for p in module.parameters()), macs=macs)
    out['total'] = dict(params=sum(p.numel() for p in model.parameters()),
                        macs=counter.get_total_flops() / 2)
    return out


def main(argv: Optional[List[str]] = None) -> Dict[str, Dict[str, float]]:
    p = argparse.ArgumentParser(description='Parameters and MACs of an mmdmtl model')
    p.add_argument('config')
    p.add_argument('--shape', type=int, nargs=2, default=None, metavar=('H', 'W'),
                   help='input size (default: the data preprocessor size, else 288 384)')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = p.parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    shape = args.shape or cfg.model.get('data_preprocessor', {}).get('size') or (288, 384)
    h, w = int(shape[0]), int(shape[1])
    res = count(cfg, h, w)
    print(f'{osp.basename(args.config)}, input 1x3x{h}x{w}, inference '
          '(MACs = FLOPs / 2, torch.utils.flop_counter)\n')
    print('| component | params (M) | GMACs |')
    print('|---|---|---|')
    for name, r in res.items():
        print(f"| {name} | {r['params'] / 1e6:.2f} | {r['macs'] / 1e9:.2f} |")
    return res


if __name__ == '__main__':
    main()
