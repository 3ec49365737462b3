"""Reproduce a published mmdmtl checkpoint from its seed and check its metrics.

mmdmtl ships no weight files (no binaries in the repository, and no download
on offline machines). Instead, each checkpoint in the model index that was
trained here (``Metadata.Reproduce`` in ``configs/*/metafile.yaml``) can be
rebuilt with one command: train its config with the recorded seed, test it,
and compare the test metrics with the published ones within the recorded
tolerance::

    python tools/reproduce_checkpoint.py diffusionmtl_r18-lite_1xb8-1k_synthetic-96x128
    python tools/reproduce_checkpoint.py --list

It leaves ``<work-dir>/<name>/<name>.pth`` (use it with ``tools/infer.py``,
``tools/test.py`` or ``demo/image_demo.py``), the training log and
``check.json``, prints a table (published, reproduced, difference, tolerance)
and exits with status 1 if a metric is outside its tolerance. CPU training
with a fixed seed repeats exactly on the same machine and software; other
CPUs or library versions change the last digits, which the tolerances allow.
"""
import argparse
import glob
import json
import os
import os.path as osp
import shutil
import sys
import time
from typing import Dict, List, Optional

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def published_models() -> Dict[str, dict]:
    """``{name: metafile model entry}`` of the models with ``Reproduce`` data."""
    import yaml
    out = {}
    for path in sorted(glob.glob(osp.join(ROOT, 'configs', '*', 'metafile.yaml'))):
        with open(path, encoding='utf-8') as f:
            meta = yaml.safe_load(f)
        for m in meta.get('Models', []):
            if 'Reproduce' in m.get('Metadata', {}):
                out[m['Name']] = m
    return out


def compare(expected: Dict[str, float], got: Dict[str, float],
            tolerance: Dict[str, float]) -> List[dict]:
    """One row per expected metric: published, reproduced, |diff|, tolerance, ok."""
    rows = []
    for key, ref in expected.items():
        if key not in got:
            raise KeyError(f'reproduce_checkpoint: the test produced no metric {key!r} '
                           f'(it produced {sorted(got)})')
        tol = float(tolerance.get(key, tolerance.get('default', 0.0)))
        diff = abs(float(got[key]) - float(ref))
        rows.append(dict(metric=key, published=float(ref), reproduced=float(got[key]),
                         diff=diff, tolerance=tol, ok=bool(diff <= tol)))
    return rows


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='Rebuild a published checkpoint from its seed '
                                'and check its metrics')
    p.add_argument('name', nargs='?', help='model name (see --list)')
    p.add_argument('--list', action='store_true', help='list the reproducible models')
    p.add_argument('--work-dir', default='work_dirs/reproduce')
    p.add_argument('--config', help='train this config instead of the model\'s (tests)')
    p.add_argument('--expected', help='JSON {"metrics": {...}, "tolerance": {...}, "seed": n} '
                   'to check against instead of the metafile (tests)')
    p.add_argument('--no-check', action='store_true', help='train and test only')
    p.add_argument('--cfg-options', nargs='+', default=[],
                   help='key=value overrides (as tools/train.py)')
    return p.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    models = published_models()
    if args.list:
        for name, m in models.items():
            rep = m['Metadata']['Reproduce']
            print(f'{name}: seed {rep["seed"]}, about {rep.get("minutes_2_cpu_cores", "?")} min '
                  f'on 2 CPU cores; {m["Config"]}')
        return 0
    if not args.name:
        raise SystemExit('reproduce_checkpoint: give a model name (see --list)')
    if args.expected:
        with open(args.expected, encoding='utf-8') as f:
            spec = json.load(f)
        config = args.config
        if not config:
            raise SystemExit('reproduce_checkpoint: --expected needs --config')
    else:
        if args.name not in models:
            raise SystemExit(f'reproduce_checkpoint: unknown model {args.name!r}; reproducible '
                             f'models: {sorted(models)}')
        m = models[args.name]
        rep = m['Metadata']['Reproduce']
        spec = dict(metrics=m['Results'][0]['Metrics'], tolerance=rep['tolerance'],
                    seed=rep['seed'])
        config = args.config or osp.join(ROOT, m['Config'])

    from mmengine.config import Config, DictAction
    from mmengine.registry import init_default_scope

    import mmdmtl  # noqa: F401
    from mmdmtl.registry import RUNNERS
    cfg = Config.fromfile(config)
    if args.cfg_options:
        parser = argparse.ArgumentParser()
        parser.add_argument('--o', nargs='+', action=DictAction)
        cfg.merge_from_dict(parser.parse_args(['--o'] + args.cfg_options).o)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    work_dir = osp.abspath(osp.join(args.work_dir, args.name))
    os.makedirs(work_dir, exist_ok=True)
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=int(spec['seed']), deterministic=True)
    cfg.experiment_name = f'train_{int(time.time())}'
    t0 = time.time()
    RUNNERS.build(cfg).train()
    minutes = (time.time() - t0) / 60
    last = osp.join(work_dir, f'iter_{cfg.train_cfg.max_iters}.pth')
    final = osp.join(work_dir, f'{args.name}.pth')
    shutil.copyfile(last, final)
    cfg.load_from = final
    cfg.experiment_name = f'test_{int(time.time())}'
    metrics = {k: float(v) for k, v in RUNNERS.build(cfg).test().items()}
    result = dict(name=args.name, config=osp.relpath(config, ROOT) if config.startswith(ROOT)
                  else config, seed=int(spec['seed']), train_minutes=round(minutes, 2),
                  checkpoint=final, metrics=metrics)
    status = 0
    if not args.no_check:
        rows = compare(spec['metrics'], metrics, spec.get('tolerance', {}))
        result['check'] = rows
        print(f'\n{args.name}: trained in {minutes:.1f} min (seed {spec["seed"]})\n')
        print('| metric | published | reproduced | |diff| | tolerance | ok |')
        print('|---|---|---|---|---|---|')
        for r in rows:
            print(f"| {r['metric']} | {r['published']:.4f} | {r['reproduced']:.4f} | "
                  f"{r['diff']:.4f} | {r['tolerance']:.4f} | {'yes' if r['ok'] else 'NO'} |")
        bad = [r['metric'] for r in rows if not r['ok']]
        if bad:
            print(f'\nreproduce_checkpoint: {", ".join(bad)} outside the tolerance')
            status = 1
        else:
            print(f'\nall {len(rows)} metrics within tolerance; checkpoint: {final}')
    with open(osp.join(work_dir, 'check.json'), 'w') as f:
        json.dump(result, f, indent=1)
    return status


if __name__ == '__main__':
    sys.exit(main())
