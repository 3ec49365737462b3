"""Speed benchmark of DiffusionMTL: ours side by side with the official code.

Times the **training step** (forward + loss + backward + gradient clipping +
Adam step) and the **inference pass** of mmdmtl's model, and optionally of

* the official implementation, built from a checkout the user provides
  (``--official PATH``; nothing of it is part of mmdmtl, see
  ``official_model.py``), with the same architecture settings, batch, labels
  and input; and
* mmdmtl's own head with its vectorised chain replaced by a per-sample x
  per-task loop over the same modules (``--loop``; the official code's
  training loop structure), checked to give identical outputs first.

The contenders run **interleaved** (A B C A B C ...) so that a change in the
machine's load hits all of them alike; each step's time is recorded and the
table gives min and median. Threads are pinned with ``--threads`` (default:
all cores). Example (2 CPU cores, paper size)::

    python tools/analysis_tools/benchmark.py --official ../DiffusionMTL \\
        --batch-size 8 --height 288 --width 384 --timesteps 2 --steps 5

Also reports parameters and MACs (``torch.utils.flop_counter``, one image,
inference, FLOPs / 2) and, with ``--profile``, a ``torch.profiler`` table of
mmdmtl's training step grouped by module.
"""
import argparse
import copy
import json
import os
import os.path as osp
import statistics
import sys
import time
import types
from typing import Callable, Dict, List, Optional

import torch

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(osp.dirname(HERE))
for p in (ROOT, HERE):
    if p not in sys.path:
        sys.path.insert(0, p)

from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.structures import PixelData  # noqa: E402
from mmseg.structures import SegDataSample  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import mmdmtl  # noqa: E402,F401
from mmdmtl.registry import MODELS  # noqa: E402
from mmdmtl.structures.tasks import get_task  # noqa: E402

DEFAULT_CONFIG = osp.join(ROOT, 'configs/diffusionmtl/diffusionmtl_r18_1xb4-40k_nyud-288x384.py')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--config', default=DEFAULT_CONFIG, help='mmdmtl config (its model)')
    p.add_argument('--official', metavar='PATH',
                   help='checkout of the official DiffusionMTL code to compare with')
    p.add_argument('--loop', action='store_true',
                   help='also time mmdmtl\'s head with a per-sample x per-task loop')
    p.add_argument('--batch-size', type=int, default=8)
    p.add_argument('--height', type=int, default=288)
    p.add_argument('--width', type=int, default=384)
    p.add_argument('--timesteps', type=int, default=2)
    p.add_argument('--variant', choices=['feature', 'prediction'], default=None,
                   help='override the config\'s variant (the official code is feature)')
    p.add_argument('--preset', choices=['paper', 'lite'], default=None,
                   help='override the head preset')
    p.add_argument('--labels', choices=['one', 'random', 'full'], default='one')
    p.add_argument('--deterministic', action='store_true',
                   help="mmdmtl inference without test-time noise (test_noise='none')")
    p.add_argument('--mode', choices=['train', 'infer', 'both'], default='both')
    p.add_argument('--steps', type=int, default=5, help='timed steps per contender')
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--threads', type=int, default=None, help='torch threads (pinned)')
    p.add_argument('--device', choices=['cpu', 'cuda'], default='cpu')
    p.add_argument('--amp', action='store_true', help='bf16 autocast (numerics change)')
    p.add_argument('--channels-last', action='store_true',
                   help='mmdmtl model in channels_last memory format')
    p.add_argument('--compare-channels-last', action='store_true',
                   help='also time a channels_last copy of mmdmtl\'s model, interleaved')
    p.add_argument('--plain-adam', action='store_true',
                   help="also time mmdmtl with the config's optimiser at fused=False (the "
                   'per-parameter loop the official code uses): what the fused optimiser gives')
    p.add_argument('--no-macs', action='store_true', help='skip the MAC count')
    p.add_argument('--profile', metavar='FILE',
                   help='write a torch.profiler table of mmdmtl\'s training step here')
    p.add_argument('--json', metavar='FILE', help='also write the results as JSON')
    return p.parse_args(argv)


# ------------------------------------------------------------------ inputs
def make_batch(b: int, h: int, w: int, tasks: Dict[str, int], labels: str, device):
    """Random images, targets (invalid where unlabelled) and labelled tasks."""
    g = torch.Generator().manual_seed(0)
    names = list(tasks)
    samples, labelled, targets = [], [], {t: [] for t in names}
    for i in range(b):
        if labels == 'full':
            lab = names
        elif labels == 'one':
            lab = [names[i % len(names)]]
        else:
            k = int(torch.randint(1, len(names), (1, ), generator=g))
            perm = torch.randperm(len(names), generator=g)[:k].tolist()
            lab = [names[j] for j in sorted(perm)]
        labelled.append(lab)
        s = SegDataSample()
        s.set_metainfo(dict(img_shape=(h, w), pad_shape=(h, w), ori_shape=(h, w),
                            task_mask={t: t in lab for t in names}))
        for t, c in tasks.items():
            spec = get_task(t)
            data = spec.random_target(c, (h, w), generator=g)
            if t not in lab:
                data = torch.full_like(data, spec.invalid_value)
            s.set_field(PixelData(data=data.to(device)), spec.gt_field)
            # the official losses ignore 255 (in every channel)
            targets[t].append(data.float() if t in lab
                              else torch.full(data.shape, 255.))
        samples.append(s)
    inputs = torch.randn(b, 3, h, w, generator=g).to(device)
    stacked = {t: torch.stack(v).to(device) for t, v in targets.items()}
    return inputs, samples, labelled, stacked


# -------------------------------------------------------------- contenders
class Contender:
    """A named model with ``train_step`` and ``infer`` callables."""

    def __init__(self, name: str, train_step: Callable[[], None],
                 infer: Callable[[], None]) -> None:
        self.name = name
        self.train_step = train_step
        self.infer = infer
        self.times: Dict[str, List[float]] = {'train': [], 'infer': []}


def _autocast(args):
    if args.amp:
        return torch.autocast(args.device, dtype=torch.bfloat16)
    return torch.autocast(args.device, enabled=False)


def ours_contender(name: str, model, inputs, samples, args, optim_cfg=None,
                   channels_last: Optional[bool] = None) -> Contender:
    """mmdmtl's model with the optimiser wrapper of its config (``optim_cfg``:
    optimiser, gradient clipping), as ``tools/train.py`` would build it; the
    official code's Adam (lr 2e-5, weight decay 1e-6, clipping at 10) without
    a config."""
    from mmengine.optim import build_optim_wrapper
    if optim_cfg is None:
        optim_cfg = dict(type='OptimWrapper', clip_grad=dict(max_norm=10.0),
                         optimizer=dict(type='Adam', lr=2e-5, weight_decay=1e-6))
    wrapper = build_optim_wrapper(model, copy.deepcopy(optim_cfg))
    if channels_last is None:
        channels_last = args.channels_last
    x = inputs.contiguous(memory_format=torch.channels_last) if channels_last else inputs

    def train_step():
        model.train()
        with _autocast(args):
            losses = model(x, copy.copy(samples), mode='loss')
        total = sum(v for k, v in losses.items() if 'loss' in k)
        wrapper.update_params(total)

    def infer():
        model.eval()
        with torch.no_grad(), _autocast(args):
            model(x, copy.deepcopy(samples), mode='predict')

    c = Contender(name, train_step, infer)
    c.optimizer = repr(dict(wrapper.optimizer.defaults))
    return c


def official_contender(args, tasks, inputs, labelled, targets) -> Contender:
    from official_model import OfficialDiffusionMTL
    off = OfficialDiffusionMTL(args.official, tasks, args.height, args.width,
                               args.timesteps).to(args.device)
    batch = off.make_batch(inputs, targets, labelled)
    optim = torch.optim.Adam(off.model.parameters(), lr=2e-5, weight_decay=1e-6)

    def train_step():
        off.model.train()
        with _autocast(args):
            loss = off.loss(batch)
        optim.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(off.model.parameters(), max_norm=10)
        optim.step()

    def infer():
        off.model.eval()
        with torch.no_grad(), _autocast(args):
            off.predict(batch)

    c = Contender('official', train_step, infer)
    c.params = sum(p.numel() for p in off.model.parameters())
    return c


# ----------------------------------------------------------- per-sample loop
def loop_forward(self, inputs, task_mask=None, noise=None):
    """Per-sample x per-task chain over the same modules (official structure)."""
    feats, preds = self.preliminary(inputs)
    index = self.pair_index(task_mask, preds)
    start = feats if self.variant == 'feature' else preds
    cond_tokens = self.condition_tokens(preds)
    b = preds[self.task_names[0]].shape[0]
    rows: Dict[str, List[torch.Tensor]] = {t: [] for t in self.task_names}
    for i in range(b):
        for t in self.task_names:
            if task_mask is not None and not bool(task_mask[i, self.task_names.index(t)]):
                continue
            idx = torch.tensor([i], device=start[t].device)
            out = self.run_chain({t: start[t][i:i + 1]}, {t: idx}, cond_tokens, noise)
            rows[t].append(out[t])
    final = {t: torch.cat(rows[t]) if rows[t] else preds[t][:0] for t in self.task_names}
    return dict(init=preds, final=final, index=index)


def fixed_noise(head, b: int, h: int, w: int, device):
    """Pre-drawn noise indexed by batch position (same for every version)."""
    g = torch.Generator().manual_seed(1)
    bank = {t: torch.randn(*s, generator=g).to(device)
            for t, s in head.noise_shapes(b, (h // 8, w // 8)).items()}
    return lambda task, slot, ref, index: bank[task][slot].index_select(0, index).reshape(
        ref.shape)


def check_loop_identical(model, inputs, samples, noise) -> float:
    """Max abs difference of final outputs, vectorised head vs loop."""
    from mmdmtl.models.decode_heads import task_mask_tensor
    head = model.decode_head
    mask = task_mask_tensor(samples, head.task_names, inputs.device)
    state = copy.deepcopy(model.state_dict())
    with torch.no_grad():
        x = model.extract_feat(inputs)
        vec = head.forward(x, task_mask=mask, noise=noise)
        loop = loop_forward(head, x, task_mask=mask, noise=noise)
    model.load_state_dict(state)
    diff = 0.0
    for t in head.task_names:
        a, b = vec['final'][t], loop['final'][t]
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)
        if a.numel():
            diff = max(diff, (a - b).abs().max().item())
    return diff


def check_channels_last_identical(model, cl_model, inputs) -> float:
    """Max abs difference of the deterministic head outputs (all tasks),
    contiguous vs channels_last model."""
    head, cl_head = model.decode_head, cl_model.decode_head
    saved = [(h, getattr(h, 'test_noise', None), h.training) for h in (head, cl_head)]
    diff = 0.0
    try:
        for h in (head, cl_head):
            if hasattr(h, 'test_noise'):
                h.test_noise = 'none'
        model.eval()
        cl_model.eval()
        with torch.no_grad():
            a = head.forward(model.extract_feat(inputs))
            b = cl_head.forward(cl_model.extract_feat(
                inputs.contiguous(memory_format=torch.channels_last)))
        for t in head.task_names:
            torch.testing.assert_close(a['final'][t], b['final'][t], rtol=1e-4, atol=1e-4)
            diff = max(diff, (a['final'][t] - b['final'][t]).abs().max().item())
    finally:
        for h, noise, training in saved:
            if noise is not None:
                h.test_noise = noise
            h.train(training)
    return diff


# ------------------------------------------------------------------- timing
def sync(device: str) -> None:
    if device == 'cuda':
        torch.cuda.synchronize()


def run_interleaved(contenders: List[Contender], kind: str, steps: int, warmup: int,
                    device: str) -> None:
    for c in contenders:
        for _ in range(warmup):
            getattr(c, 'train_step' if kind == 'train' else 'infer')()
    for i in range(steps):
        for c in contenders:
            fn = c.train_step if kind == 'train' else c.infer
            sync(device)
            t0 = time.perf_counter()
            fn()
            sync(device)
            c.times[kind].append(time.perf_counter() - t0)
            print(f'[{kind} {i + 1}/{steps}] {c.name}: {c.times[kind][-1]:.3f} s',
                  file=sys.stderr, flush=True)


def count_macs(model, h: int, w: int, device) -> float:
    model.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.randn(1, 3, h, w, device=device), mode='tensor')
    return counter.get_total_flops() / 2


def build_ours(args):
    cfg = Config.fromfile(args.config)
    head = cfg.model.decode_head
    if head.get('type') == 'DiffusionMTLHead':
        head.num_timesteps = args.timesteps
    if args.variant:
        head.variant = args.variant
    if args.preset:
        head.preset = args.preset
    if args.deterministic and head.get('type') == 'DiffusionMTLHead':
        head.test_noise = 'none'
    cfg.model.pop('pretrained', None)
    if cfg.model.get('backbone', {}).get('init_cfg'):
        cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model).to(args.device)
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
    model.optim_cfg = cfg.get('optim_wrapper')
    return model


def profile_train_step(contender: Contender, path: str) -> None:
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU], record_shapes=False,
                 with_stack=False) as prof:
        contender.train_step()
    table = prof.key_averages().table(sort_by='self_cpu_time_total', row_limit=40)
    with open(path, 'w') as f:
        f.write(table)
    print(f'profile of one training step written to {path}', file=sys.stderr)


def fmt(ts: List[float]) -> str:
    return f'{min(ts):.3f} / {statistics.median(ts):.3f}' if ts else '-'


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    if args.device == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('--device cuda requested but CUDA is not available')
    if args.threads:
        torch.set_num_threads(args.threads)
    init_default_scope('mmseg')
    torch.manual_seed(0)
    b, h, w = args.batch_size, args.height, args.width
    model = build_ours(args)
    head = model.decode_head
    inputs, samples, labelled, targets = make_batch(b, h, w, head.tasks, args.labels,
                                                    args.device)
    contenders = [ours_contender('mmdmtl', model, inputs, samples, args, model.optim_cfg)]
    result = dict(config=osp.basename(args.config), batch=b, height=h, width=w,
                  timesteps=args.timesteps, variant=getattr(head, 'variant', None),
                  head=type(head).__name__, labels=args.labels,
                  device=args.device, threads=torch.get_num_threads(), amp=args.amp,
                  channels_last=args.channels_last,
                  params={'mmdmtl': sum(p.numel() for p in model.parameters())})
    if not args.no_macs:
        result['gmacs_per_image'] = count_macs(model, h, w, args.device) / 1e9
    if args.loop:
        loop_model = copy.deepcopy(model)
        lhead = loop_model.decode_head
        noise = fixed_noise(head, b, h, w, args.device)
        result['loop_max_abs_diff'] = check_loop_identical(model, inputs, samples, noise)
        lhead.forward = types.MethodType(loop_forward, lhead)
        contenders.append(ours_contender('mmdmtl, per-sample loop', loop_model, inputs,
                                         samples, args, model.optim_cfg))
    if args.compare_channels_last:
        cl_model = copy.deepcopy(model).to(memory_format=torch.channels_last)
        result['channels_last_max_abs_diff'] = check_channels_last_identical(
            model, cl_model, inputs)
        contenders.append(ours_contender('mmdmtl, channels_last', cl_model, inputs, samples,
                                         args, model.optim_cfg, channels_last=True))
    if args.plain_adam and model.optim_cfg:
        plain_cfg = copy.deepcopy(model.optim_cfg)
        plain_cfg.optimizer.fused = False
        contenders.append(ours_contender('mmdmtl, plain Adam', copy.deepcopy(model), inputs,
                                         samples, args, plain_cfg))
    if args.official:
        torch.manual_seed(0)
        off = official_contender(args, head.tasks, inputs, labelled, targets)
        result['params']['official'] = off.params
        contenders.append(off)
    if args.profile:
        profile_train_step(contenders[0], args.profile)
    kinds = ['train', 'infer'] if args.mode == 'both' else [args.mode]
    for kind in kinds:
        run_interleaved(contenders, kind, args.steps, args.warmup, args.device)
    result['times'] = {c.name: c.times for c in contenders}
    result['optimizer'] = {c.name: getattr(c, 'optimizer', 'Adam(lr=2e-05, weight_decay=1e-06)')
                           for c in contenders}

    n_pairs = sum(len(x) for x in labelled)
    what = f'{head.variant}, T={args.timesteps}' if hasattr(head, 'variant') else \
        type(head).__name__
    print(f'\n{result["config"]} ({what}), batch {b}, {h}x{w}, '
          f'{args.device} ({result["threads"]} threads{", bf16 autocast" if args.amp else ""}'
          f'{", channels_last" if args.channels_last else ""}), labels={args.labels} '
          f'({n_pairs} labelled pairs of {b * len(head.tasks)}); {args.steps} interleaved '
          f'steps after {args.warmup} warm-up; seconds, min / median.')
    if 'gmacs_per_image' in result:
        print(f'mmdmtl: {result["params"]["mmdmtl"] / 1e6:.2f}M params, '
              f'{result["gmacs_per_image"]:.1f} GMACs per image (inference).')
    print('optimisers: ' + '; '.join(f'{k}: {v}' for k, v in result['optimizer'].items()))
    if 'channels_last_max_abs_diff' in result:
        print('channels_last vs contiguous: max abs diff '
              f'{result["channels_last_max_abs_diff"]:.1e}')
    if 'loop_max_abs_diff' in result:
        print(f'per-sample loop vs vectorised: max abs diff {result["loop_max_abs_diff"]:.1e}')
    print('\n| model | params (M) | train step (s) | inference (s) | images/s (inference) |')
    print('|---|---|---|---|---|')
    for c in contenders:
        params = result['params'].get(c.name, result['params']['mmdmtl'])
        inf = c.times['infer']
        ips = f'{b / statistics.median(inf):.2f}' if inf else '-'
        print(f'| {c.name} | {params / 1e6:.2f} | {fmt(c.times["train"])} | {fmt(inf)} | '
              f'{ips} |')
    ref = contenders[0]
    for c in contenders[1:]:
        for kind in kinds:
            if c.times[kind] and ref.times[kind]:
                ratio = statistics.median(c.times[kind]) / statistics.median(ref.times[kind])
                print(f'{kind}: mmdmtl is {ratio:.2f}x as fast as {c.name} (median)')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=1)
    return result


if __name__ == '__main__':
    if '--threads' in sys.argv:
        n = sys.argv[sys.argv.index('--threads') + 1]
        os.environ.setdefault('OMP_NUM_THREADS', n)
    main()
