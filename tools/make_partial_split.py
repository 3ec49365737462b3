"""Create a seeded partial-label split, or inspect one, and print per-task counts.

Examples::

    # one label per image, balanced over the 3 NYUD tasks, 795 images
    python tools/make_partial_split.py --num-samples 795 \\
        --tasks semseg depth normal --mode onelabel --seed 0 \\
        --out data/nyud_mtan/splits/onelabel_seed0.json

    # 10 % of depth labels, everything else fully labelled
    python tools/make_partial_split.py --num-samples 795 \\
        --tasks semseg depth normal --mode fraction --fraction depth=0.1 \\
        --out splits/depth10.json

    # two labels per image, image ids from a list file (PASCAL-style)
    python tools/make_partial_split.py --ids-file ImageSets/Context/train.txt \\
        --tasks semseg parts sal normal edge --mode k_of_t --k 2 --out s.json

    # counts of an existing split file, or of a shipped published split by name
    python tools/make_partial_split.py --show nyuv2_onelabel
"""
import argparse
import json
import os.path as osp
import sys
from typing import Dict, List, Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmdmtl.datasets.partial_labels import (  # noqa: E402
    SPLIT_MODES,
    PartialLabelSplit,
    generate_partial_split,
    load_partial_split,
    save_partial_split,
)


def parse_fractions(items: Optional[List[str]]) -> Dict[str, float]:
    """``['depth=0.1', ...]`` -> ``{'depth': 0.1}``."""
    out = {}
    for item in items or []:
        if '=' not in item:
            raise SystemExit(f'--fraction expects TASK=VALUE, got {item!r}')
        k, v = item.split('=', 1)
        out[k.strip()] = float(v)
    return out


def format_counts(split: PartialLabelSplit) -> str:
    """Human-readable per-task counts and labels-per-image histogram."""
    stats = split.statistics()
    n = stats['num_samples']
    lines = [f'source: {split.source}', f'images: {n}',
             f'{"task":<8} {"labelled":>9} {"fraction":>9}']
    for t, c in stats['labelled_per_task'].items():
        lines.append(f'{t:<8} {c:>9d} {stats["fraction_per_task"][t]:>9.3f}')
    hist = ', '.join(f'{k}: {v}' for k, v in stats['labels_per_sample_histogram'].items())
    lines.append(f'labels per image: {hist}')
    return '\n'.join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--show', help='print the counts of an existing split file (or of a shipped '
                   'published split: nyuv2_onelabel, pascal_onelabel, ...) and exit')
    p.add_argument('--num-samples', type=int, help='number of training images')
    p.add_argument('--ids-file', help='text file of image ids (one per line); sets the '
                   'number of images and keys the split by id')
    p.add_argument('--tasks', nargs='+', help='task names, e.g. semseg depth normal')
    p.add_argument('--mode', choices=SPLIT_MODES, default='onelabel')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--k', type=int, help='labels per image for --mode k_of_t')
    p.add_argument('--max-labels', type=int, help='cap for --mode randomlabels')
    p.add_argument('--fraction', nargs='*', metavar='TASK=F',
                   help='per-task label fractions for --mode fraction')
    p.add_argument('--out', help='output manifest (.json or .pth)')
    p.add_argument('--json-stats', action='store_true',
                   help='print the statistics as JSON instead of a table')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.show:
        split = load_partial_split(args.show)
    else:
        if not args.tasks:
            raise SystemExit('--tasks is required (or use --show FILE)')
        ids = None
        if args.ids_file:
            with open(args.ids_file) as f:
                ids = [line.strip() for line in f if line.strip()]
        n = len(ids) if ids is not None else args.num_samples
        if n is None:
            raise SystemExit('give --num-samples or --ids-file')
        if ids is not None and args.num_samples is not None and args.num_samples != n:
            raise SystemExit(f'--num-samples {args.num_samples} does not match the '
                             f'{n} ids in {args.ids_file}')
        split = generate_partial_split(n, args.tasks, args.mode, seed=args.seed, k=args.k,
                                       fractions=parse_fractions(args.fraction),
                                       max_labels=args.max_labels, sample_ids=ids)
        if args.out:
            split.source = save_partial_split(split, args.out)
    if args.json_stats:
        print(json.dumps(split.statistics(), indent=2))
    else:
        print(format_counts(split))
    return 0


if __name__ == '__main__':
    sys.exit(main())
