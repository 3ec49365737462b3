"""Write rendered scenes to disk in the MTAN NYUv2 ``.npy`` layout, once.

``data_root`` is a cache folder owned by the generator: it holds the marker
file :data:`CACHE_MARKER` and one sub-folder per *generation* (one set of
generator parameters), named by :func:`generation_name`, e.g.
``data_root/gen-v1_n1000-200_96x128_seed0/``. Layout of a generation
(``i`` = 0 .. N-1 per split)::

    train/image/{i}.npy   (H, W, 3) float32 RGB in [0, 1]
    train/label/{i}.npy   (H, W)    float32 class ids, -1 = ignore
    train/depth/{i}.npy   (H, W, 1) float32 metres, 0 = invalid
    train/normal/{i}.npy  (H, W, 3) float32 in [-1, 1], 0 = invalid
    train/edge/{i}.npy    (H, W)    uint8 0/1 (not in the real MTAN files)
    val/...               the same
    splits/{onelabel,randomlabels}.json           semseg / depth / normal
    splits/{onelabel,randomlabels}_4tasks.json    + edge
    meta.json             written last: generation parameters and counts

Data safety:

* nothing is ever deleted or overwritten except the generator's own
  unfinished temporary folders (``.partial-*``, holding
  :data:`PARTIAL_MARKER`);
* a generation is rendered into a fresh temporary folder inside
  ``data_root`` (same file system) and renamed into place in one atomic
  ``os.rename``, so a generation folder is always complete; a crash leaves
  only a ``.partial-*`` folder, which is never read and is removed by the
  next generation;
* other parameters (e.g. another ``num_train``) make a new generation
  beside the old ones, which stay untouched for the runs that read them
  (delete old ``gen-*`` folders by hand when no run uses them);
* a non-empty ``data_root`` without the marker (e.g. a folder of real
  data) is refused with :class:`SyntheticDataRootError`, and left
  untouched;
* concurrent processes (e.g. distributed ranks) render a generation once:
  an exclusive ``flock`` on ``data_root/.lock`` serialises them, and where
  locks are not available the loser of the final rename uses the winner's
  generation.

A ``data_root`` that is itself a complete generation with the requested
parameters (a folder returned earlier, or the pre-versioning layout with
``train/``, ``val/`` and ``meta.json`` directly inside) is used as it is; a
generation folder with other parameters stands for its cache folder (the
new generation is made beside it).
"""
import json
import os
import os.path as osp
import shutil
import uuid
from typing import Dict, List, Optional, Tuple

import numpy as np

from .classes import SYNTHETIC_CLASSES, SYNTHETIC_PALETTE
from .renderer import render_scene
from .scene import DEFAULT_HFOV_DEG

#: Bump when the renderer's output changes, so caches are regenerated.
GENERATOR_VERSION = 1
META_FILE = 'meta.json'
#: ``format`` recorded in ``meta.json`` of every generation.
DATASET_FORMAT = 'mtan-nyuv2-npy+edge'
#: Marker file of a ``data_root`` owned (written) by the generator.
CACHE_MARKER = 'MMDMTL_SYNTHETIC_CACHE.txt'
#: Marker file inside an unfinished (temporary) generation folder.
PARTIAL_MARKER = '.mmdmtl-synthetic-partial'
#: Name prefix of unfinished (temporary) generation folders.
PARTIAL_PREFIX = '.partial-'
LOCK_FILE = '.lock'
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


class SyntheticDataRootError(RuntimeError):
    """``data_root`` cannot hold the synthetic dataset without touching files
    the generator did not write (or a generation was changed afterwards)."""


def generation_name(num_train: int, num_val: int, height: int, width: int,
                    seed: int) -> str:
    """Folder name of the generation made with these parameters, e.g.
    ``gen-v1_n1000-200_96x128_seed0`` (includes :data:`GENERATOR_VERSION`)."""
    return (f'gen-v{GENERATOR_VERSION}_n{int(num_train)}-{int(num_val)}_'
            f'{int(height)}x{int(width)}_seed{int(seed)}')


def _read_meta(data_root: str) -> Optional[dict]:
    try:
        with open(osp.join(data_root, META_FILE)) as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def _is_generator_meta(meta: Optional[dict]) -> bool:
    return meta is not None and meta.get('format') == DATASET_FORMAT \
        and 'generator_version' in meta


def generation_problem(root: str, num_train: int = 1000, num_val: int = 200,
                       height: int = 96, width: int = 128,
                       seed: int = 0) -> Optional[str]:
    """Why ``root`` is not a finished generation with these parameters
    (``None`` when it is: ``meta.json`` matches and every file is there)."""
    meta = _read_meta(root)
    if meta is None:
        return f'no readable {META_FILE}'
    want = _params(num_train, num_val, height, width, seed)
    diff = {k: meta.get(k) for k, v in want.items() if meta.get(k) != v}
    if diff:
        return (f'{META_FILE} records {diff}, not '
                f'{ {k: want[k] for k in diff} }')
    for split, n in (('train', num_train), ('val', num_val)):
        for folder in FOLDERS:
            d = osp.join(root, split, folder)
            try:
                names = set(os.listdir(d))
            except OSError:
                return f'folder {split}/{folder} is missing'
            missing = [i for i in range(n) if f'{i}.npy' not in names]
            if missing:
                return (f'{len(missing)} file(s) missing in {split}/{folder}, '
                        f'e.g. {missing[0]}.npy')
    return None


def is_complete_synthetic_dataset(data_root: str, num_train: int = 1000,
                                  num_val: int = 200, height: int = 96,
                                  width: int = 128, seed: int = 0) -> bool:
    """Whether ``data_root`` holds a finished dataset made with exactly
    these parameters (``meta.json`` matches and every file is there)."""
    return generation_problem(data_root, num_train, num_val, height, width,
                              seed) is None


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
    missing; then :attr:`locked` stays ``False``), so concurrent processes
    (e.g. distributed ranks) generate the dataset only once."""

    def __init__(self, data_root: str) -> None:
        self.path = osp.join(data_root, LOCK_FILE)
        self.fd = None
        self.locked = False

    def __enter__(self) -> '_DirLock':
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            return self
        self.fd = open(self.path, 'a')
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        self.locked = True
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            import fcntl
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            self.fd.close()
            self.locked = False


def _unique_suffix() -> str:
    """Unique per process and call: for temporary names beside a target."""
    return f'{os.getpid()}-{uuid.uuid4().hex[:12]}'


def _write_text_atomic(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through a unique temporary name in the same
    folder and ``os.replace`` (readers never see a partial file)."""
    tmp = f'{path}.{_unique_suffix()}.tmp'
    try:
        with open(tmp, 'x') as f:  # the umask's permissions, unlike mkstemp
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def _claim_data_root(data_root: str) -> None:
    """Create ``data_root`` or check that the generator owns it, and mark it.

    Owned: it holds :data:`CACHE_MARKER`, or it is empty (apart from the
    lock file), or it has a generator ``meta.json`` directly inside (the
    pre-versioning layout). Anything else is refused untouched.

    Raises:
        SyntheticDataRootError: ``data_root`` is a file, a generation folder
            (to be used only with its own parameters) or a non-empty folder
            the generator did not write.
    """
    marker = osp.join(data_root, CACHE_MARKER)
    if osp.exists(data_root) and not osp.isdir(data_root):
        raise SyntheticDataRootError(
            f'synthetic dataset data_root {data_root} is a file, not a folder; '
            f'set data_root to a new or empty folder')
    os.makedirs(data_root, exist_ok=True)
    if osp.isfile(marker):
        return
    meta = _read_meta(data_root)
    if meta is not None and 'generation' in meta:
        raise SyntheticDataRootError(
            f'{data_root} is the synthetic dataset generation {meta["generation"]} '
            f'(num_train={meta.get("num_train")}, num_val={meta.get("num_val")}, '
            f'{meta.get("height")}x{meta.get("width")}, seed={meta.get("seed")}), '
            f'which does not match the parameters asked for, and its parent '
            f'folder is not a synthetic dataset cache (no {CACHE_MARKER}); set '
            f'data_root to a new or empty folder')
    # ignores the lock and the marker, also while another process writes it
    entries = [e for e in os.listdir(data_root)
               if e != LOCK_FILE and not e.startswith(CACHE_MARKER)]
    # another process may have claimed the folder since the check above
    if entries and not _is_generator_meta(meta) and not osp.isfile(marker):
        shown = ', '.join(sorted(entries)[:5]) + (', ...' if len(entries) > 5 else '')
        raise SyntheticDataRootError(
            f'synthetic dataset data_root {data_root} is not empty ({shown}) and '
            f'was not written by the synthetic dataset generator (it has no '
            f'{CACHE_MARKER}); refusing to write into it so that none of its '
            f'files is touched. Set data_root to a new or empty folder (e.g. '
            f'data/synthetic_indoor); to train on the data in this folder, use '
            f'its own dataset class (e.g. NYUDv2MTANDataset for the MTAN layout)')
    _write_text_atomic(marker, (
        'This folder is a cache of the mmdmtl synthetic indoor dataset.\n'
        'Each gen-* folder is one generation (its parameters are in its '
        'meta.json);\nthe generator never deletes a generation: remove old '
        'ones by hand when no run uses them.\n'))


def _discard_partial(path: str) -> None:
    """Delete an unfinished generation folder this generator made."""
    shutil.rmtree(path, ignore_errors=True)


def _remove_stale_partials(data_root: str) -> None:
    """Delete unfinished generations left by crashed processes.

    Only called while holding the lock of ``data_root``: every living
    generator holds it while rendering, so any ``.partial-*`` folder with
    :data:`PARTIAL_MARKER` then belongs to a process that died.
    """
    for name in os.listdir(data_root):
        path = osp.join(data_root, name)
        if (name.startswith(PARTIAL_PREFIX) and osp.isdir(path)
                and osp.isfile(osp.join(path, PARTIAL_MARKER))):
            _discard_partial(path)


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


def _render_generation(root: str, name: str, num_train: int, num_val: int,
                       height: int, width: int, seed: int, progress: bool,
                       num_workers: Optional[int]) -> None:
    """Render every file of a generation into the empty folder ``root``,
    ``meta.json`` last."""
    for split in SPLITS:
        for folder in FOLDERS:
            os.makedirs(osp.join(root, split, folder), exist_ok=True)
    jobs = [(root, split, i, int(seed), int(height), int(width))
            for split, n in (('train', num_train), ('val', num_val))
            for i in range(int(n))]
    if num_workers is None:
        num_workers = min(os.cpu_count() or 1, 8)
    _run_jobs(jobs, int(num_workers), progress,
              desc=f'rendering synthetic dataset {name}')
    split_files = _write_splits(root, int(num_train), int(seed)) \
        if num_train > 0 else []
    meta = _params(num_train, num_val, height, width, seed)
    meta.update(
        generation=name,
        format=DATASET_FORMAT,
        classes=list(SYNTHETIC_CLASSES),
        palette=SYNTHETIC_PALETTE,
        ignore_label=-1,
        hfov_deg=DEFAULT_HFOV_DEG,
        depth='camera z-depth in metres, 0 = invalid',
        normal='unit, camera frame x right / y down / z forward, 0 = invalid',
        folders=list(FOLDERS),
        splits=[osp.relpath(p, root) for p in split_files],
    )
    _write_text_atomic(osp.join(root, META_FILE), json.dumps(meta, indent=1))


def ensure_synthetic_dataset(data_root: str,
                             num_train: int = 1000,
                             num_val: int = 200,
                             height: int = 96,
                             width: int = 128,
                             seed: int = 0,
                             progress: bool = True,
                             num_workers: Optional[int] = None) -> str:
    """Make sure the synthetic dataset is on disk; generate it if not.

    Returns the folder of the generation with these parameters,
    ``data_root/<generation_name(...)>`` (see the module docstring for the
    layout and the data-safety rules). If it exists, nothing is written.
    Otherwise it is rendered (with a progress bar) into a temporary folder
    inside ``data_root`` and renamed into place when complete. Generations
    with other parameters are never touched. A ``data_root`` that is itself
    a complete generation with these parameters is returned as it is.

    Args:
        data_root: Cache folder (created if missing). It must be empty, not
            exist, or have been written by this generator.
        num_train, num_val: Images per split.
        height, width: Image size (default 96x128, NYUD's aspect).
        seed: Dataset seed; image ``i`` of a split uses
            :func:`scene_seed` ``(seed, split, i)``.
        progress: Show a tqdm progress bar while generating.
        num_workers: Processes used to render (default: all CPU cores,
            at most 8); 1 renders in this process.

    Returns:
        The folder holding ``train/``, ``val/``, ``splits/`` and
        ``meta.json``.

    Raises:
        SyntheticDataRootError: ``data_root`` holds files the generator did
            not write (they are left untouched), or the generation folder
            was changed after it was written (e.g. files deleted).
        ValueError: a parameter is out of range.
    """
    for name, value, low in (('num_train', num_train, 0), ('num_val', num_val, 0),
                             ('height', height, 2), ('width', width, 2)):
        if int(value) < low:
            raise ValueError(f'ensure_synthetic_dataset: {name} must be >= {low}, '
                             f'got {value}')
    params = (int(num_train), int(num_val), int(height), int(width), int(seed))
    data_root = osp.abspath(osp.expanduser(str(data_root)))
    if is_complete_synthetic_dataset(data_root, *params):
        return data_root  # a generation itself, or the pre-versioning layout
    meta = _read_meta(data_root)
    if (meta is not None and 'generation' in meta
            and osp.isfile(osp.join(osp.dirname(data_root), CACHE_MARKER))):
        # a generation with other parameters: make the new one beside it
        data_root = osp.dirname(data_root)
    name = generation_name(*params)
    target = osp.join(data_root, name)
    if is_complete_synthetic_dataset(target, *params):
        return target
    _claim_data_root(data_root)
    with _DirLock(data_root) as lock:
        # another process may have finished it while we waited for the lock
        problem = generation_problem(target, *params)
        if problem is None:
            return target
        if osp.lexists(target):
            raise SyntheticDataRootError(
                f'{target} is not a complete synthetic dataset ({problem}): it '
                f'was changed after it was generated. Delete the folder {target} '
                f'(no other generation is affected) and run again')
        if lock.locked:
            _remove_stale_partials(data_root)
        tmp = osp.join(data_root, f'{PARTIAL_PREFIX}{name}-{_unique_suffix()}')
        os.mkdir(tmp)  # the umask's permissions (mkdtemp would make it private)
        try:
            open(osp.join(tmp, PARTIAL_MARKER), 'w').close()
            _render_generation(tmp, name, *params, progress=progress,
                               num_workers=num_workers)
            os.remove(osp.join(tmp, PARTIAL_MARKER))
        except BaseException:
            _discard_partial(tmp)
            raise
        try:
            os.rename(tmp, target)  # atomic; fails if target appeared meanwhile
        except OSError:
            _discard_partial(tmp)
            problem = generation_problem(target, *params)
            if problem is not None:
                raise SyntheticDataRootError(
                    f'could not move the rendered synthetic dataset to {target}, '
                    f'and what is there is not complete ({problem})') from None
    return target
