"""Convert a checkpoint you trust into mmdmtl's safe-loading format.

Plain mmengine checkpoints pickle ``HistoryBuffer`` and numpy objects, which
torch's safe (``weights_only``) unpickler refuses. This tool fully unpickles
such a file -- only do that for files from a source you trust -- and writes
a copy that contains only tensors and plain Python types::

    python tools/convert_checkpoint.py IN.pth OUT.pth --trust [--weights-only]

``--weights-only`` keeps just ``state_dict`` and ``meta`` (for sharing
weights; drops optimizer and scheduler state).
"""
import argparse

import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='checkpoint to convert (trusted source!)')
    parser.add_argument('dst', help='output checkpoint path')
    parser.add_argument('--trust', action='store_true',
                        help='confirm that SRC comes from a trusted source')
    parser.add_argument('--weights-only', action='store_true',
                        help='keep only state_dict and meta')
    args = parser.parse_args()
    if not args.trust:
        parser.error('unpickling can execute arbitrary code: pass --trust to '
                     f'confirm that {args.src} comes from a trusted source')

    from mmdmtl.engine.checkpoint_io import to_safe_state
    ckpt = torch.load(args.src, map_location='cpu', weights_only=False)
    if not isinstance(ckpt, dict):
        raise TypeError(f'{args.src} does not hold a dict checkpoint')
    if 'state_dict' not in ckpt:  # a bare state dict
        ckpt = {'state_dict': ckpt}
    if args.weights_only:
        ckpt = {k: ckpt[k] for k in ('state_dict', 'meta') if k in ckpt}
    safe = to_safe_state(ckpt)
    torch.save(safe, args.dst)
    torch.load(args.dst, map_location='cpu', weights_only=True)  # verify
    print(f'wrote {args.dst} ({len(safe["state_dict"])} tensors); it loads '
          'with weights_only=True')


if __name__ == '__main__':
    main()
