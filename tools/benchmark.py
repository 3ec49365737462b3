"""Benchmark DiffusionMTL: params, MACs, train-step time, peak memory.

Compares the vectorised head (all labelled (sample, task) pairs of the batch
through the denoiser at once) with a per-sample x per-task loop over the same
modules (the official code's training loop; it lives only in this script),
checks that both give identical outputs and losses for the same noise, and
prints a markdown table::

    python tools/benchmark.py --batch-size 8 --height 288 --width 384 \
        --timesteps 1 2 3 --preset paper --device cpu --iters 3

MACs are counted with ``torch.utils.flop_counter`` for one image in
inference mode (all tasks denoised) and reported as FLOPs / 2. The train
step is forward + backward + Adam step on a batch where every sample has a
random non-empty subset of the tasks labelled (``--labels random``) or
exactly one (``--labels one``). Peak memory is CUDA's max allocated memory,
or on CPU the rise of the process's peak RSS (``VmHWM``, reset through
``/proc/self/clear_refs`` where the kernel allows it) during the steps.
"""
import argparse
import copy
import os
import os.path as osp
import resource
import sys
import time
import types
from typing import Dict, List, Optional

import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.structures import PixelData  # noqa: E402
from mmseg.structures import SegDataSample  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import mmdmtl  # noqa: E402,F401
from mmdmtl.registry import MODELS  # noqa: E402
from mmdmtl.structures.tasks import get_task  # noqa: E402

DEFAULT_CONFIG = osp.join(ROOT, 'configs/_base_/models/diffusionmtl_r18.py')


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description='Benchmark the DiffusionMTL model')
    p.add_argument('--config', default=DEFAULT_CONFIG, help='model config')
    p.add_argument('--batch-size', type=int, default=8)
    p.add_argument('--height', type=int, default=288)
    p.add_argument('--width', type=int, default=384)
    p.add_argument('--timesteps', type=int, nargs='+', default=[1, 2, 3])
    p.add_argument('--preset', choices=['paper', 'lite'], default='paper')
    p.add_argument('--variant', choices=['feature', 'prediction'], default='feature')
    p.add_argument('--labels', choices=['one', 'random', 'full'], default='random')
    p.add_argument('--device', choices=['cpu', 'cuda'], default='cpu')
    p.add_argument('--iters', type=int, default=3, help='timed steps per setting')
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--no-loop', action='store_true', help='skip the per-sample loop version')
    return p.parse_args()


# ---------------------------------------------------------------- the loop version
def loop_forward(self, inputs, task_mask=None, noise=None):
    """Per-sample x per-task chain over the same modules (official-style)."""
    feats, preds = self.preliminary(inputs)
    index = self.pair_index(task_mask, preds)
    start = feats if self.variant == 'feature' else preds
    cond_tokens = self.condition_tokens(preds)
    b = preds[self.task_names[0]].shape[0]
    rows: Dict[str, List[torch.Tensor]] = {t: [] for t in self.task_names}
    order: Dict[str, List[int]] = {t: [] for t in self.task_names}
    for i in range(b):
        for t in self.task_names:
            if task_mask is not None and not bool(task_mask[i, self.task_names.index(t)]):
                continue
            idx = torch.tensor([i], device=start[t].device)
            out = self.run_chain({t: start[t][i:i + 1]}, {t: idx}, cond_tokens, noise)
            rows[t].append(out[t])
            order[t].append(i)
    final = {}
    for t in self.task_names:
        final[t] = torch.cat(rows[t]) if rows[t] else preds[t][:0]
        # pairs were produced sample by sample; index lists them in that order
        assert order[t] == index[t].tolist()
    return dict(init=preds, final=final, index=index)


# ------------------------------------------------------------------------ helpers
def make_batch(b: int, h: int, w: int, tasks: Dict[str, int], labels: str, device):
    g = torch.Generator().manual_seed(0)
    names = list(tasks)
    samples = []
    for i in range(b):
        if labels == 'full':
            lab = names
        elif labels == 'one':
            lab = [names[i % len(names)]]
        else:
            k = int(torch.randint(1, len(names), (1, ), generator=g))
            perm = torch.randperm(len(names), generator=g)[:k].tolist()
            lab = [names[j] for j in sorted(perm)]
        s = SegDataSample()
        s.set_metainfo(dict(img_shape=(h, w), pad_shape=(h, w), ori_shape=(h, w),
                            task_mask={t: t in lab for t in names}))
        for t, c in tasks.items():
            spec = get_task(t)
            if spec.kind == 'segmentation':
                data = torch.randint(0, c, (1, h, w), generator=g)
            elif spec.kind == 'binary':
                data = (torch.rand(1, h, w, generator=g) > 0.8).long()
            elif spec.kind == 'depth':
                data = 0.5 + 4 * torch.rand(1, h, w, generator=g)
            else:
                data = torch.nn.functional.normalize(torch.randn(3, h, w, generator=g), dim=0)
            if t not in lab:
                data = torch.full_like(data, spec.invalid_value)
            s.set_field(PixelData(data=data.to(device)), spec.gt_field)
        samples.append(s)
    inputs = torch.randn(b, 3, h, w, generator=g).to(device)
    return inputs, samples


def fixed_noise(head, b: int, h: int, w: int, device):
    """Pre-drawn noise, indexed by batch position (same for both versions)."""
    fh, fw = h // 8, w // 8
    g = torch.Generator().manual_seed(1)
    bank = {t: torch.randn(*s, generator=g).to(device)
            for t, s in head.noise_shapes(b, (fh, fw)).items()}

    def noise(task, slot, ref, index):
        return bank[task][slot].index_select(0, index).reshape(ref.shape)
    return noise


class PeakMemory:
    """Peak memory of a code block (CUDA allocator or CPU RSS high-water mark)."""

    def __init__(self, device: str) -> None:
        self.device = device

    @staticmethod
    def _vm(key: str) -> Optional[int]:
        try:
            with open('/proc/self/status') as f:
                for line in f:
                    if line.startswith(key):
                        return int(line.split()[1]) * 1024
        except OSError:
            return None
        return None

    def __enter__(self):
        if self.device == 'cuda':
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.base = torch.cuda.memory_allocated()
        else:
            try:
                with open('/proc/self/clear_refs', 'w') as f:
                    f.write('5')  # reset VmHWM to the current RSS
            except OSError:
                pass
            self.base = self._vm('VmRSS') or 0
        return self

    def __exit__(self, *exc):
        if self.device == 'cuda':
            torch.cuda.synchronize()
            self.peak = torch.cuda.max_memory_allocated() - self.base
        else:
            hwm = self._vm('VmHWM')
            if hwm is None:
                hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
            self.peak = max(hwm - self.base, 0)


def sync(device: str) -> None:
    if device == 'cuda':
        torch.cuda.synchronize()


def train_steps(model, inputs, samples, noise, iters: int, warmup: int, device: str):
    """Mean seconds of forward + backward + Adam step, and peak memory."""
    optim = torch.optim.Adam(model.parameters(), lr=1e-6)
    head = model.decode_head

    def step():
        x = model.extract_feat(inputs)
        losses = head.loss(x, copy.copy(samples), noise=noise)
        total = sum(losses.values())
        optim.zero_grad(set_to_none=True)
        total.backward()
        optim.step()

    for _ in range(warmup):
        step()
    sync(device)
    with PeakMemory(device) as mem:
        t0 = time.perf_counter()
        for _ in range(iters):
            step()
        sync(device)
        dt = (time.perf_counter() - t0) / max(iters, 1)
    return dt, mem.peak


def check_identical(model, inputs, samples, noise) -> float:
    """Max abs difference of outputs and losses, vectorised vs loop."""
    head = model.decode_head
    from mmdmtl.models.decode_heads import task_mask_tensor
    mask = task_mask_tensor(samples, head.task_names, inputs.device)
    state = copy.deepcopy(model.state_dict())
    with torch.no_grad():
        x = model.extract_feat(inputs)
        vec = head.forward(x, task_mask=mask, noise=noise)
        vec_loss = head.loss_by_feat(vec, samples, mask)
        loop = loop_forward(head, x, task_mask=mask, noise=noise)
        loop_loss = head.loss_by_feat(loop, samples, mask)
    model.load_state_dict(state)  # BN running stats moved twice; restore
    diff = 0.0
    for t in head.task_names:
        a, b = vec['final'][t], loop['final'][t]
        assert a.shape == b.shape, (t, a.shape, b.shape)
        if a.numel():
            diff = max(diff, (a - b).abs().max().item())
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)
    for k in vec_loss:
        torch.testing.assert_close(vec_loss[k], loop_loss[k], rtol=1e-4, atol=1e-5)
    return diff


def count_macs(model, h: int, w: int, device) -> float:
    model.eval()
    x = torch.randn(1, 3, h, w, device=device)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(x, mode='tensor')
    model.train()
    return counter.get_total_flops() / 2


def build_model(args, timesteps: int):
    cfg = Config.fromfile(args.config)
    head = cfg.model.decode_head
    head.num_timesteps = timesteps
    head.preset = args.preset
    head.variant = args.variant
    return MODELS.build(cfg.model).to(args.device)


def main() -> None:
    args = parse_args()
    if args.device == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('--device cuda requested but CUDA is not available')
    init_default_scope('mmseg')
    torch.manual_seed(0)
    rows = []
    b, h, w = args.batch_size, args.height, args.width
    for T in args.timesteps:
        model = build_model(args, T).train()
        head = model.decode_head
        inputs, samples = make_batch(b, h, w, head.tasks, args.labels, args.device)
        noise = fixed_noise(head, b, h, w, args.device)
        params = sum(p.numel() for p in model.parameters())
        macs = count_macs(model, h, w, args.device)
        diff = check_identical(model, inputs, samples, noise) if not args.no_loop else None
        t_vec, m_vec = train_steps(model, inputs, samples, noise, args.iters, args.warmup,
                                   args.device)
        row = dict(T=T, params=params, macs=macs, t_vec=t_vec, m_vec=m_vec, diff=diff)
        if not args.no_loop:
            head.forward = types.MethodType(loop_forward, head)
            t_loop, m_loop = train_steps(model, inputs, samples, noise, args.iters,
                                         args.warmup, args.device)
            row.update(t_loop=t_loop, m_loop=m_loop)
        rows.append(row)
        del model
        print(f'T={T} done: {row}', file=sys.stderr, flush=True)

    n_pairs = sum(sum(s.metainfo['task_mask'].values()) for s in samples)
    print(f'\nDiffusionMTL ({args.variant}, preset={args.preset}, '
          f'{osp.basename(args.config)}), batch {b}, {h}x{w}, device {args.device} '
          f'({torch.get_num_threads()} threads), labels={args.labels} '
          f'({n_pairs} labelled pairs of {b * len(head.tasks)}), '
          f'{args.iters} timed step(s) after {args.warmup} warm-up.')
    print('MACs: one image, inference (all tasks), torch.utils.flop_counter FLOPs / 2. '
          'Step: forward + backward + Adam.\n')
    print('| T | Params (M) | GMACs / image | step vectorised (s) | step per-sample loop (s) '
          '| speed-up | peak mem vectorised (MiB) | peak mem loop (MiB) | max abs diff |')
    print('|---|---|---|---|---|---|---|---|---|')
    for r in rows:
        loop_t = f"{r['t_loop']:.3f}" if 't_loop' in r else '-'
        speed = f"{r['t_loop'] / r['t_vec']:.2f}x" if 't_loop' in r else '-'
        loop_m = f"{r['m_loop'] / 2**20:.0f}" if 'm_loop' in r else '-'
        diff = f"{r['diff']:.1e}" if r['diff'] is not None else '-'
        print(f"| {r['T']} | {r['params'] / 1e6:.2f} | {r['macs'] / 1e9:.1f} | "
              f"{r['t_vec']:.3f} | {loop_t} | {speed} | {r['m_vec'] / 2**20:.0f} | {loop_m} | "
              f"{diff} |")


if __name__ == '__main__':
    os.environ.setdefault('OMP_NUM_THREADS', str(torch.get_num_threads()))
    main()
