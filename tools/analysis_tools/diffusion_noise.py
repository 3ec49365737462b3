"""How much does the diffusion noise move a trained DiffusionMTL head's
output? Per task, on the first ``--num-images`` images of the config's test
(or validation) set::

    python tools/analysis_tools/diffusion_noise.py CONFIG CHECKPOINT \\
        [--num-images 32] [--draws 4] [--split {test,val}] [--out DIR]

The reverse chain starts from the initial map (or feature) ``x0`` noised to
the last step, ``sqrt(abar) x0 + sqrt(1 - abar) eps``. The tool prints, in
the chain's space (raw initial predictions of the prediction variant, or the
features of the feature variant):

* ``start spread``: the standard deviation of ``x0`` over its pixels,
  channels and images;
* ``start noise``: ``sqrt(1 - abar)`` at the last step, and the
  noise-to-signal ratio of the start state, ``sqrt(1 - abar) / (sqrt(abar)
  * start spread)``;

and in the output space of the refined map (the chain's space for the
prediction variant, the final heads' output for the feature variant), as
root mean squares over pixels, channels and images:

* ``correction``: refined map without noise (``test_noise='none'``) minus
  the initial map;
* ``noise effect``: refined map with inference noise minus the refined map
  without it (``--draws`` noise draws, seeded 0, 1, ...);
* their ratio: near 0 means the trained chain is, in effect, a deterministic
  refinement: the noise does not reach its output.

``diffusion_noise.md`` and ``.json`` are written to ``--out`` (default
``work_dirs/diffusion_noise/<config name>``). ``tools/analyze_refinement.py``
gives the effect on the metrics (its ``final`` and ``final, no noise``
modes); this tool shows the size of the noise beside the size of the
correction, which the metrics do not.
"""
import argparse
import json
import math
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.config import Config, DictAction

#: columns of the table: (key, header, format)
COLUMNS = (('start_spread', 'start spread', '{:.4g}'),
           ('start_noise', 'start noise', '{:.4g}'),
           ('noise_to_signal', 'noise / signal at start', '{:.3f}'),
           ('correction', 'correction (RMS)', '{:.4g}'),
           ('noise_effect', 'noise effect (RMS)', '{:.4g}'),
           ('effect_to_correction', 'noise effect / correction', '{:.3f}'))


class _Sums:
    """Running sums of squares (and of values, for a spread) over batches."""

    def __init__(self) -> None:
        self.n = 0
        self.sum = 0.0
        self.sq = 0.0

    def add(self, x: torch.Tensor) -> None:
        x = x.double()
        self.n += x.numel()
        self.sum += float(x.sum())
        self.sq += float((x * x).sum())

    def rms(self) -> float:
        return math.sqrt(self.sq / self.n) if self.n else float('nan')

    def std(self) -> float:
        if not self.n:
            return float('nan')
        mean = self.sum / self.n
        return math.sqrt(max(self.sq / self.n - mean * mean, 0.0))


def _ratio(a: float, b: float) -> float:
    """``a / b``; ``nan`` for 0 / 0 and ``inf`` for a / 0 (a zero
    correction, e.g. an untrained anchored head)."""
    if b == 0:
        return float('nan') if a == 0 else float('inf')
    return a / b


@torch.no_grad()
def noise_report(model: torch.nn.Module, batches: Sequence[dict], draws: int
                 ) -> Dict[str, Dict[str, float]]:
    """Per task: the start spread, the start noise and the start state's
    noise-to-signal ratio, the correction and the noise effect (see the
    module docstring) over ``batches`` (dataloader
    batches before the data preprocessor).

    Raises:
        TypeError: the model's decode head is not a ``DiffusionMTLHead``.
        ValueError: ``draws`` < 1, or the head makes no noise
            (``use_diffusion=False``).
    """
    from mmdmtl.models.decode_heads import DiffusionMTLHead
    head = model.decode_head
    if not isinstance(head, DiffusionMTLHead):
        raise TypeError(f'the decode head is a {type(head).__name__}, not a DiffusionMTLHead: '
                        'it has no diffusion noise')
    if not head.use_diffusion:
        raise ValueError('the head is built with use_diffusion=False: it makes no noise')
    if draws < 1:
        raise ValueError(f'draws must be at least 1, got {draws}')
    model.eval()
    tasks = head.task_names
    spread = {t: _Sums() for t in tasks}
    correction = {t: _Sums() for t in tasks}
    effect = {t: _Sums() for t in tasks}
    saved = head.test_noise
    try:
        for b, data in enumerate(batches):
            inputs = model.data_preprocessor(data, False)['inputs']
            feats = model.extract_feat(inputs)
            start_feats, preds = head.preliminary(feats)
            start = start_feats if head.variant == 'feature' else preds
            x0 = {t: head.to_chain_space(t, start[t]) for t in tasks}
            head.test_noise = 'none'
            clean = head(feats)['final']
            head.test_noise = 'random'
            for t in tasks:
                spread[t].add(x0[t])
                init = x0[t] if head.variant == 'prediction' else head.final_heads[t](x0[t])
                correction[t].add(clean[t] - init)
            for d in range(draws):
                torch.manual_seed(b * draws + d)
                noisy = head(feats)['final']
                for t in tasks:
                    effect[t].add(noisy[t] - clean[t])
    finally:
        head.test_noise = saved
    noise = float(head.scheduler.sqrt_one_minus_alphas_cumprod[-1])
    signal = float(head.scheduler.sqrt_alphas_cumprod[-1])
    report = {}
    for t in tasks:
        row = dict(start_spread=spread[t].std(), start_noise=noise,
                   correction=correction[t].rms(), noise_effect=effect[t].rms())
        row['noise_to_signal'] = _ratio(noise, signal * row['start_spread'])
        row['effect_to_correction'] = _ratio(row['noise_effect'], row['correction'])
        report[t] = row
    return report


def report_table(report: Dict[str, Dict[str, float]]) -> str:
    """The report as a markdown table, one row per task."""
    lines = ['| task | ' + ' | '.join(h for _, h, _ in COLUMNS) + ' |',
             '|---|' + '---|' * len(COLUMNS)]
    for task, row in report.items():
        lines.append(f'| {task} | ' + ' | '.join(f.format(row[k]) for k, _, f in COLUMNS) + ' |')
    return '\n'.join(lines) + '\n'


def first_batches(loader, num_images: int) -> List[dict]:
    """The loader's batches up to ``num_images`` images (the last batch cut)."""
    out, seen = [], 0
    for data in loader:
        n = len(data['inputs'])
        if seen + n > num_images:
            data = {k: v[:num_images - seen] for k, v in data.items()}
            n = num_images - seen
        out.append(data)
        seen += n
        if seen >= num_images:
            break
    return out


def main(argv: Optional[Sequence[str]] = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--num-images', type=int, default=32, help='images to measure on')
    p.add_argument('--draws', type=int, default=4, help='noise draws per batch')
    p.add_argument('--split', choices=('test', 'val'), default='test',
                   help="the config's test_dataloader or val_dataloader")
    p.add_argument('--out', help='folder of diffusion_noise.md/.json')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    args = p.parse_args(argv)
    if args.num_images < 1:
        p.error(f'--num-images must be at least 1, got {args.num_images}')
    if args.draws < 1:
        p.error(f'--draws must be at least 1, got {args.draws}')
    for path in (args.config, args.checkpoint):
        if not osp.isfile(path):
            p.error(f'no such file: {path}')

    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner, load_checkpoint

    import mmdmtl  # noqa: F401  registers the plugin's modules (and the safe checkpoint loader)
    from mmdmtl.registry import MODELS
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = MODELS.build(cfg.model)
    load_checkpoint(model, args.checkpoint, map_location='cpu', strict=True)
    loader_cfg = cfg.get(f'{args.split}_dataloader')
    if loader_cfg is None:
        p.error(f'{args.config} has no {args.split}_dataloader')
    loader = Runner.build_dataloader(dict(loader_cfg, num_workers=0, persistent_workers=False))
    try:
        report = noise_report(model, first_batches(loader, args.num_images), args.draws)
    except (TypeError, ValueError) as e:
        raise SystemExit(f'diffusion_noise: {args.config}: {e}')
    out = args.out or osp.join('work_dirs', 'diffusion_noise',
                               osp.splitext(osp.basename(args.config))[0])
    os.makedirs(out, exist_ok=True)
    table = (f'{args.checkpoint}, first {args.num_images} images of the {args.split} set, '
             f'{args.draws} noise draws per batch.\n\n' + report_table(report))
    with open(osp.join(out, 'diffusion_noise.md'), 'w') as f:
        f.write(table)
    with open(osp.join(out, 'diffusion_noise.json'), 'w') as f:
        json.dump(dict(config=args.config, checkpoint=args.checkpoint, split=args.split,
                       num_images=args.num_images, draws=args.draws, tasks=report), f, indent=1)
    print(table, end='')


if __name__ == '__main__':
    main()
