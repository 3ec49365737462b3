"""Check the label fractions of a shell driver and print them as the runner
files them.

``converged_label_efficiency.sh`` passes its ``FRACTIONS`` (percentages)
through this before any run, so that a fraction is checked, and its folders
named, by the runner's own rules (``mmdmtl.experiments.canonical_split``):
``50.0`` and ``5e1`` print ``50``, and a value that is not a percentage in
(0, 100], or one that names a fraction given before, is refused (exit 2)
naming it.

    python tools/experiments/label_fractions.py 10 50.0   # prints: 10 50
"""
import argparse
import sys
from typing import List, Optional, Sequence

from mmdmtl.experiments import canonical_split


def canonical_fractions(values: Sequence[str]) -> List[str]:
    """The percentages ``values`` as the runner names them (``frac<P>``
    without ``frac``), in their order.

    Raises:
        ValueError: naming the first value that is not a percentage in
            (0, 100] or that repeats an earlier one.
    """
    seen = {}
    for value in values:
        try:
            name = canonical_split('frac' + value)
        except ValueError:
            raise ValueError(f'{value} is not a percentage in (0, 100]') from None
        if name in seen:
            raise ValueError(f'{value} is the fraction {seen[name]} again')
        seen[name] = value
    return [name[len('frac'):] for name in seen]


def main(argv: Optional[Sequence[str]] = None) -> None:
    p = argparse.ArgumentParser(prog='label_fractions.py', description=__doc__.splitlines()[0])
    p.add_argument('values', nargs='*', metavar='P', help='percentages')
    args = p.parse_args(argv)
    try:
        names = canonical_fractions(args.values)
    except ValueError as e:
        p.exit(2, f'{p.prog}: FRACTIONS: {e}\n')
    if not names:
        p.exit(2, f'{p.prog}: FRACTIONS: no fraction given\n')
    sys.stdout.write(' '.join(names) + '\n')


if __name__ == '__main__':
    main()
