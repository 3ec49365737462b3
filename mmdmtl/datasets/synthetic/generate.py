"""Write rendered scenes to disk in the MTAN NYUv2 ``.npy`` layout, once.

Layout written under ``data_root`` (``i`` = 0 .. N-1 per split)::

    train/image/{i}.npy   (H, W, 3) float32 RGB in [0, 1]
    train/label/{i}.npy   (H, W)    float32 class ids, -1 = ignore
    train/depth/{i}.npy   (H, W, 1) float32 metres, 0 = invalid
    train/normal/{i}.npy  (H, W, 3) float32 in [-1, 1], 0 = invalid
    train/edge/{i}.npy    (H, W)    uint8 0/1 (not in the real MTAN files)
    val/...               the same
    splits/{onelabel,randomlabels}.json           semseg / depth / normal
    splits/{onelabel,randomlabels}_4tasks.json    + edge
    meta.json             written last: generation parameters and counts

``meta.json`` is the completion marker: it is deleted before anything is
(re)written and written (to a temporary name, then renamed) only after
every other file, so an interrupted generation -- possibly with a
half-written ``.npy`` -- is detected (no or different ``meta.json``) and
redone from scratch.
"""
import json
import os
import os.path as osp
import shutil
from typing import Dict, List, Optional, Tuple

import numpy as np

from .classes import SYNTHETIC_CLASSES, SYNTHETIC_PALETTE
from .renderer import render_scene
from .scene import DEFAULT_HFOV_DEG

#: Bump when the renderer's output changes, so caches are regenerated.
GENERATOR_VERSION = 1
META_FILE = 'meta.json'
SPLITS = ('train', 'val')
#: Sub-folders written per split and the ``render_scene`` key of each.
FOLDERS: Dict[str, str] = {
    'image': 'image',
    'label': 'label',
    'depth': 'depth',
    'normal': 'normal',
    'edge': 'edge',
}
_SPLIT_CODE = {'train': 0, 'val': 1}
#: Fewer jobs than this are rendered in-process (no worker pool).
MIN_JOBS_FOR_POOL = 64


def scene_seed(seed: int, split: str, index: int) -> int:
    """Scene seed of image ``index`` of ``split`` in a dataset made with
    ``seed``: independent of the order and process that renders it."""
    if split not in _SPLIT_CODE:
        raise KeyError(f'unknown split {split!r}; expected one of {list(_SPLIT_CODE)}')
    ss = np.random.SeedSequence([int(seed), _SPLIT_CODE[split], int(index)])
    return int(ss.generate_state(1, dtype=np.uint32)[0])


def _params(num_train: int, num_val: int, height: int, width: int,
            seed: int) -> dict:
    return dict(generator_version=GENERATOR_VERSION, num_train=int(num_train),
                num_val=int(num_val), height=int(height), width=int(width),
                seed=int(seed))


def _read_meta(data_root: str) -> Optional[dict]:
    try:
        with open(osp.join(data_root, META_FILE)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def is_complete_synthetic_dataset(data_root: str, num_train: int = 1000,
                                  num_val: int = 200, height: int = 96,
                                  width: int = 128, seed: int = 0) -> bool:
    """Whether ``data_root`` holds a finished dataset made with exactly
    these parameters (``meta.json`` matches and every file is there)."""
    meta = _read_meta(data_root)
    want = _params(num_train, num_val, height, width, seed)
    if meta is None or any(meta.get(k) != v for k, v in want.items()):
        return False
    for split, n in (('train', num_train), ('val', num_val)):
        for folder in FOLDERS:
            d = osp.join(data_root, split, folder)
            try:
                names = set(os.listdir(d))
            except OSError:
                return False
            if len(names) != n or any(f'{i}.npy' not in names for i in range(n)):
                return False
    return True


def _render_and_write(job: Tuple[str, str, int, int, int, int]) -> int:
    """Render one scene and write its files; returns 1 (for progress)."""
    data_root, split, index, seed, height, width = job
    out = render_scene(scene_seed(seed, split, index), height, width)
    for folder, key in FOLDERS.items():
        np.save(osp.join(data_root, split, folder, f'{index}.npy'), out[key])
    return 1


def _write_splits(data_root: str, num_train: int, seed: int) -> List[str]:
    """One-label and random-label partial-label splits of the train set."""
    from mmdmtl.datasets.partial_labels import generate_partial_split, save_partial_split
    written = []
    for suffix, tasks in (('', ('semseg', 'depth', 'normal')),
                          ('_4tasks', ('semseg', 'depth', 'normal', 'edge'))):
        for mode, kwargs in (('onelabel', {}),
                             ('randomlabels', dict(max_labels=len(tasks) - 1))):
            split = generate_partial_split(num_train, tasks, mode=mode,
                                           seed=seed, **kwargs)
            written.append(save_partial_split(
                split, osp.join(data_root, 'splits', f'{mode}{suffix}.json')))
    return written


class _DirLock:
    """Exclusive ``flock`` on ``data_root/.lock`` (no-op where ``fcntl`` is
    missing), so concurrent processes (e.g. distributed ranks) generate the
    dataset only once."""

    def __init__(self, data_root: str) -> None:
        self.path = osp.join(data_root, '.lock')
        self.fd = None

    def __enter__(self) -> '_DirLock':
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            return self
        self.fd = open(self.path, 'w')
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            import fcntl
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            self.fd.close()


def _run_jobs(jobs: List[tuple], num_workers: int, progress: bool,
              desc: str) -> None:
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(jobs), desc=desc, unit='img')
    try:
        if num_workers <= 1 or len(jobs) < MIN_JOBS_FOR_POOL:
            for job in jobs:
                _render_and_write(job)
                if bar is not None:
                    bar.update(1)
        else:
            import multiprocessing as mp
            ctx = mp.get_context('fork' if 'fork' in mp.get_all_start_methods()
                                 else 'spawn')
            with ctx.Pool(num_workers) as pool:
                for n in pool.imap_unordered(_render_and_write, jobs, chunksize=16):
                    if bar is not None:
                        bar.update(n)
    finally:
        if bar is not None:
            bar.close()


def ensure_synthetic_dataset(data_root: str,
                             num_train: int = 1000,
                             num_val: int = 200,
                             height: int = 96,
                             width: int = 128,
                             seed: int = 0,
                             progress: bool = True,
                             num_workers: Optional[int] = None) -> str:
    """Make sure ``data_root`` holds the synthetic dataset; generate it if not.

    If ``data_root/meta.json`` records the same parameters and all files
    exist, nothing is written. Otherwise the ``train``/``val``/``splits``
    folders are removed and everything is rendered again (with a progress
    bar), ``meta.json`` last.

    Args:
        data_root: Cache folder (created if missing).
        num_train, num_val: Images per split.
        height, width: Image size (default 96x128, NYUD's aspect).
        seed: Dataset seed; image ``i`` of a split uses
            :func:`scene_seed` ``(seed, split, i)``.
        progress: Show a tqdm progress bar while generating.
        num_workers: Processes used to render (default: all CPU cores,
            at most 8); 1 renders in this process.

    Returns:
        ``data_root``.
    """
    for name, value, low in (('num_train', num_train, 0), ('num_val', num_val, 0),
                             ('height', height, 2), ('width', width, 2)):
        if int(value) < low:
            raise ValueError(f'ensure_synthetic_dataset: {name} must be >= {low}, '
                             f'got {value}')
    data_root = osp.abspath(osp.expanduser(str(data_root)))
    if is_complete_synthetic_dataset(data_root, num_train, num_val, height,
                                     width, seed):
        return data_root
    os.makedirs(data_root, exist_ok=True)
    with _DirLock(data_root):
        # another process may have finished it while we waited for the lock
        if is_complete_synthetic_dataset(data_root, num_train, num_val, height,
                                         width, seed):
            return data_root
        meta_path = osp.join(data_root, META_FILE)
        if osp.exists(meta_path):
            os.remove(meta_path)
        for sub in (*SPLITS, 'splits'):
            shutil.rmtree(osp.join(data_root, sub), ignore_errors=True)
        for split in SPLITS:
            for folder in FOLDERS:
                os.makedirs(osp.join(data_root, split, folder), exist_ok=True)

        jobs = [(data_root, split, i, int(seed), int(height), int(width))
                for split, n in (('train', num_train), ('val', num_val))
                for i in range(int(n))]
        if num_workers is None:
            num_workers = min(os.cpu_count() or 1, 8)
        _run_jobs(jobs, int(num_workers), progress,
                  desc=f'rendering synthetic dataset into {data_root}')
        split_files = _write_splits(data_root, int(num_train), int(seed)) \
            if num_train > 0 else []

        meta = _params(num_train, num_val, height, width, seed)
        meta.update(
            format='mtan-nyuv2-npy+edge',
            classes=list(SYNTHETIC_CLASSES),
            palette=SYNTHETIC_PALETTE,
            ignore_label=-1,
            hfov_deg=DEFAULT_HFOV_DEG,
            depth='camera z-depth in metres, 0 = invalid',
            normal='unit, camera frame x right / y down / z forward, 0 = invalid',
            folders=list(FOLDERS),
            splits=[osp.relpath(p, data_root) for p in split_files],
        )
        tmp = meta_path + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(meta, f, indent=1)
        os.replace(tmp, meta_path)
    return data_root
