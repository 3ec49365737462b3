"""Partial-label splits: which task is labelled on which training image.

Two kinds of files are understood:

* the **published** split files of MTPSL / DiffusionMTL, loaded exactly as
  they are distributed:

  - NYUv2 (``nyuv2_onelabel.pth`` / ``nyuv2_randomlabels.pth``): a dict
    ``{'labels_weights': FloatTensor[795, 3]}``; row ``i`` is training image
    ``i`` (the MTAN file ``train/*/{i}.npy``), columns are
    semseg / depth / normal;
  - Cityscapes (``cityscapes_onelabel.pth``): the same with ``[2975, 2]``,
    columns semseg / depth;
  - PASCAL-Context (``pascal_onelabel.npy`` / ``pascal_randomlabels.npy``): a
    0-d object array holding ``{task: [image ids]}`` with the keys
    ``human_parts``, ``edge``, ``semseg``, ``normals``, ``sal``;
  - DiffusionMTL's ``new_*.pth``: ``{image id: [5 ints]}`` in the order
    semseg, human_parts, sal, normals, edge (the ints are numpy scalars,
    pickled under numpy-1 or numpy-2 names; both load);

* **manifests** written by :func:`save_partial_split` (``.json``, or ``.pth``
  holding ``labels_weights`` plus ``tasks`` and the generator settings).

The five MTPSL files ship in :mod:`mmdmtl.datasets.splits` and are selected
by name (``load_partial_split('nyuv2_onelabel')``). Nothing in a split file is
executed (:mod:`.safe_split_loading`); label flags must be 0 / 1 or booleans,
and every error names the file (and the row / image / task where it applies).

Everything is mapped to mmdmtl task names (``semseg``, ``parts``, ``sal``,
``edge``, ``depth``, ``normal``) and returned as a :class:`PartialLabelSplit`.
:func:`generate_partial_split` makes new seeded splits (one-label balanced,
random-label, k-of-T, per-task fractions, full).
"""
import difflib
import json
import numbers
import os
import os.path as osp
import pickle
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from mmdmtl.structures.tasks import check_tasks
from mmdmtl.tasks import TaskTable

from .safe_split_loading import (
    UnsafeSplitFileError,
    load_npy_safely,
    torch_load_safely,
)
from .splits import PUBLISHED_SPLITS, published_split_path

#: Manifest format tag written into JSON manifests.
MANIFEST_FORMAT = 'mmdmtl-partial-split'
MANIFEST_VERSION = 1

#: Task names used in published split files -> mmdmtl task names: every
#: registered task's ``published_names`` (its own name when it gives none).
PUBLISHED_TASK_NAMES: Mapping[str, str] = TaskTable(
    lambda t: [(alias, t.name) for alias in (t.published_names or (t.name, ))])

#: Column order of the published ``labels_weights`` tensors, by column count.
LABELS_WEIGHTS_TASKS: Dict[int, Tuple[str, ...]] = {
    3: ('semseg', 'depth', 'normal'),  # NYUv2 (MTPSL nyuv2_settings)
    2: ('semseg', 'depth'),  # Cityscapes (MTPSL cityscapes_settings)
}

#: Column order of DiffusionMTL's PASCAL ``new_*.pth`` per-image lists.
DIFFUSIONMTL_PASCAL_TASKS = ('semseg', 'parts', 'sal', 'normal', 'edge')

SPLIT_MODES = ('full', 'onelabel', 'randomlabels', 'k_of_t', 'fraction')

PathLike = Union[str, os.PathLike]


@dataclass
class PartialLabelSplit:
    """A partial-label assignment.

    Attributes:
        tasks: Task names of the columns of :attr:`mask`.
        mask: ``(N, T)`` bool array, ``True`` where the task is labelled.
        sample_ids: Image ids of the rows, or ``None`` when rows are matched
            to dataset samples by position (row ``i`` <-> sample ``i``).
        source: Where the split came from (a file path or ``'generated'``).
        meta: Generator settings and other free-form information.
    """
    tasks: Tuple[str, ...]
    mask: np.ndarray
    sample_ids: Optional[List[str]] = None
    source: str = 'generated'
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.tasks = check_tasks(self.tasks, where=f'split {self.source}')
        mask = np.asarray(self.mask)
        if mask.ndim != 2 or mask.shape[1] != len(self.tasks):
            raise ValueError(
                f'split {self.source}: mask of shape {mask.shape} does '
                f'not match {len(self.tasks)} tasks {list(self.tasks)}')
        self.mask = _binary_mask(mask, self.source, self.sample_ids,
                                 self.tasks)
        if self.sample_ids is not None:
            self.sample_ids = [str(s) for s in self.sample_ids]
            if len(self.sample_ids) != len(self.mask):
                raise ValueError(
                    f'split {self.source}: {len(self.sample_ids)} sample ids '
                    f'for {len(self.mask)} rows')
            if len(set(self.sample_ids)) != len(self.sample_ids):
                raise ValueError(f'split {self.source}: duplicate sample ids')

    def __len__(self) -> int:
        return len(self.mask)

    def counts(self) -> Dict[str, int]:
        """Number of labelled samples per task."""
        return {t: int(c) for t, c in zip(self.tasks, self.mask.sum(0))}

    def statistics(self) -> dict:
        """Per-task counts and fractions and the labels-per-sample histogram.
        """
        n = len(self)
        per_sample = self.mask.sum(1)
        hist = np.bincount(per_sample, minlength=len(self.tasks) + 1)
        return dict(
            num_samples=n,
            tasks=list(self.tasks),
            labelled_per_task=self.counts(),
            fraction_per_task={
                t: (c / n if n else 0.0)
                for t, c in self.counts().items()
            },
            labels_per_sample_histogram={
                str(k): int(v)
                for k, v in enumerate(hist)
            },
            num_unlabelled_samples=int(hist[0]),
            mean_labels_per_sample=float(per_sample.mean()) if n else 0.0,
        )

    def mask_for(self,
                 tasks: Sequence[str],
                 sample_ids: Optional[Sequence[str]] = None,
                 num_samples: Optional[int] = None) -> np.ndarray:
        """The ``(N, len(tasks))`` mask for a dataset's samples.

        Args:
            tasks: The dataset's tasks, in the dataset's order.
            sample_ids: The dataset's image ids, in order. Used when the
                split is keyed by image id.
            num_samples: The dataset's length. Used when the split is
                positional; defaults to ``len(sample_ids)``.

        Raises:
            KeyError: a requested task is not covered by the split file.
            ValueError: the split's length does not match the dataset, or
                image ids of the dataset are missing from the split.
        """
        cols = []
        for t in tasks:
            if t not in self.tasks:
                raise KeyError(
                    f'split file {self.source} has no column for task {t!r}; '
                    f'it covers {list(self.tasks)}')
            cols.append(self.tasks.index(t))
        sub = self.mask[:, cols]
        if self.sample_ids is None:
            n = num_samples if num_samples is not None else (
                len(sample_ids) if sample_ids is not None else None)
            if n is not None and n != len(self):
                raise ValueError(
                    f'split file {self.source} has {len(self)} rows but the '
                    f'dataset has {n} samples (row i labels sample i)')
            return sub.copy()
        if sample_ids is None:
            raise ValueError(f'split file {self.source} is keyed by image '
                             'id; the dataset must give its image ids')
        index = {s: i for i, s in enumerate(self.sample_ids)}
        missing = [s for s in sample_ids if str(s) not in index]
        if missing:
            raise ValueError(
                f'split file {self.source} has no entry for {len(missing)} of '
                f'the dataset\'s {len(sample_ids)} images, e.g. '
                f'{missing[:5]}')
        rows = [index[str(s)] for s in sample_ids]
        return sub[rows].copy()


def _where(row: int, sample_ids: Optional[Sequence[str]]) -> str:
    """``'row 3'`` or ``"row 3 (image '2008_000123')"``."""
    if sample_ids is not None and 0 <= row < len(sample_ids):
        return f'row {row} (image {str(sample_ids[row])!r})'
    return f'row {row}'


def _is_flag(value: Any) -> bool:
    """A bool or a real number (Python or numpy), not a string or None."""
    return isinstance(value, (bool, np.bool_, numbers.Real)) and \
        not isinstance(value, (str, bytes))


def _binary_mask(values: Any, source: str,
                 sample_ids: Optional[Sequence[str]] = None,
                 tasks: Optional[Sequence[str]] = None) -> np.ndarray:
    """Bool mask from 0/1 numbers or booleans.

    NaN, negative, fractional or larger values, strings and ``None`` are
    refused with an error that names the file, the first offending row (and
    image id) and the task column.
    """
    arr = np.asarray(values)
    if arr.ndim != 2:
        raise ValueError(f'split file {source}: label flags must form a 2-D '
                         f'table (images x tasks), got shape {arr.shape}')
    col = (lambda c: f'task {tasks[c]!r}' if tasks is not None
           and c < len(tasks) else f'column {c}')
    if arr.dtype == bool:
        return arr.copy()
    original = arr
    if arr.dtype.kind not in 'biuf':
        flags = np.vectorize(_is_flag, otypes=[bool])(arr) if arr.size else \
            np.ones(arr.shape, dtype=bool)
        if not flags.all():
            r, c = np.argwhere(~flags)[0]
            raise ValueError(
                f'split file {source}: {_where(int(r), sample_ids)}, '
                f'{col(int(c))}: value {arr[r, c]!r} is not a number; label '
                'flags must be 1 (labelled) or 0 (unlabelled)')
        arr = arr.astype(np.float64)
    ok = (arr == 0) | (arr == 1)  # NaN compares False
    if not ok.all():
        bad_rows = np.flatnonzero(~ok.all(1))
        r = int(bad_rows[0])
        c = int(np.flatnonzero(~ok[r])[0])
        value = original[r, c]
        value = value.item() if isinstance(value, np.generic) else value
        raise ValueError(
            f'split file {source}: {_where(r, sample_ids)}, {col(c)}: value '
            f'{value!r} is not 0 or 1 ({len(bad_rows)} row(s) hold such '
            'values); label flags must be 1 (labelled) or 0 (unlabelled)')
    return arr == 1


def _rows_table(rows: Sequence, width: int, source: str,
                sample_ids: Optional[Sequence[str]] = None,
                tasks: Optional[Sequence[str]] = None) -> np.ndarray:
    """``(N, width)`` object table of per-image rows; ragged rows are errors.
    """
    for i, row in enumerate(rows):
        if not isinstance(row, (list, tuple, np.ndarray)) or \
                np.ndim(row) != 1 or len(row) != width:
            got = (f'{len(row)} entries' if isinstance(
                row, (list, tuple, np.ndarray)) else repr(row))
            names = f' ({list(tasks)})' if tasks is not None else ''
            raise ValueError(
                f'split file {source}: {_where(i, sample_ids)} has {got}; '
                f'every row must hold {width} label flags{names}')
    table = np.empty((len(rows), width), dtype=object)
    for i, row in enumerate(rows):
        table[i] = list(row)
    return table


def _map_task_name(name: str, source: str) -> str:
    try:
        return PUBLISHED_TASK_NAMES[str(name)]
    except KeyError:
        known = sorted(PUBLISHED_TASK_NAMES)
        close = difflib.get_close_matches(str(name), known, n=1)
        hint = f' (did you mean {close[0]!r}?)' if close else ''
        raise KeyError(f'unknown task {str(name)!r}{hint} in split file '
                       f'{source}; known tasks are {known}') from None


def _from_labels_weights(weights, source: str,
                         tasks: Optional[Sequence[str]]) -> PartialLabelSplit:
    arr = np.asarray(weights.numpy() if hasattr(weights, 'numpy') else weights)
    if arr.ndim != 2:
        raise ValueError(f'split file {source}: labels_weights must be 2-D '
                         f'(images x tasks), got shape {arr.shape}')
    if tasks is None:
        if arr.shape[1] not in LABELS_WEIGHTS_TASKS:
            raise ValueError(
                f'split file {source}: labels_weights has {arr.shape[1]} task '
                'columns; known published layouts have '
                f'{sorted(LABELS_WEIGHTS_TASKS)} (pass the task order '
                'explicitly for other files)')
        tasks = LABELS_WEIGHTS_TASKS[arr.shape[1]]
    elif len(tasks) != arr.shape[1]:
        raise ValueError(f'split file {source}: labels_weights has '
                         f'{arr.shape[1]} task columns but the file names '
                         f'{len(tasks)} tasks {list(tasks)}')
    return PartialLabelSplit(tuple(tasks), arr, None, source)


def _is_id_list(value: Any) -> bool:
    return isinstance(value, (list, tuple, np.ndarray)) and np.ndim(value) == 1


def _looks_like_task_id_lists(d: Mapping) -> bool:
    """``{task: [image id strings]}`` (as opposed to ``{id: [flags]}``)."""
    values = list(d.values())
    return (all(_is_id_list(v) for v in values)
            and any(len(v) for v in values)
            and all(isinstance(s, str) for v in values for s in v))


def _from_task_id_lists(d: Mapping, source: str) -> PartialLabelSplit:
    tasks = tuple(_map_task_name(k, source) for k in d)
    for key, value in d.items():
        if not _is_id_list(value):
            raise ValueError(f'split file {source}: the entry of task '
                             f'{str(key)!r} must be a list of image ids, got '
                             f'{type(value).__name__}')
    ids = sorted({str(s) for key in d for s in d[key]})
    index = {s: i for i, s in enumerate(ids)}
    mask = np.zeros((len(ids), len(tasks)), dtype=bool)
    for j, key in enumerate(d):
        rows = [index[str(s)] for s in d[key]]
        mask[rows, j] = True
    return PartialLabelSplit(tasks, mask, ids, source)


def _from_id_rows(d: Mapping, source: str) -> PartialLabelSplit:
    ids = [str(k) for k in d]
    table = _rows_table(list(d.values()), len(DIFFUSIONMTL_PASCAL_TASKS),
                        source, ids, DIFFUSIONMTL_PASCAL_TASKS)
    return PartialLabelSplit(DIFFUSIONMTL_PASCAL_TASKS, table, ids, source)


def _from_manifest(d: Mapping, source: str) -> PartialLabelSplit:
    for key in ('tasks', 'mask'):
        if key not in d:
            raise KeyError(f'split manifest {source} lacks key {key!r}')
    tasks = check_tasks(d['tasks'], where=f'split manifest {source}')
    ids = d.get('sample_ids')
    rows = d['mask']
    if isinstance(rows, np.ndarray) and rows.ndim == 2:
        table = rows
    else:
        if not isinstance(rows, (list, tuple, np.ndarray)):
            raise ValueError(f'split manifest {source}: mask must be a list '
                             f'of rows, got {type(rows).__name__}')
        table = _rows_table(list(rows), len(tasks), source, ids, tasks)
    split = PartialLabelSplit(tasks, table, ids, source,
                              dict(d.get('meta', {})))
    n = d.get('num_samples')
    if n is not None and int(n) != len(split):
        raise ValueError(f'split manifest {source}: num_samples={n} but '
                         f'{len(split)} rows')
    return split


def resolve_split_file(path: PathLike) -> str:
    """``path`` itself if it is a file, else the shipped split of that name.

    Raises:
        FileNotFoundError: neither; the message lists the shipped names.
    """
    path = os.fspath(path)
    if osp.isfile(path):
        return path
    shipped = published_split_path(path) if not osp.dirname(path) else None
    if shipped is not None:
        return shipped
    raise FileNotFoundError(
        f'partial-label split file not found: {path} (shipped splits can be '
        f'selected by name: {sorted(PUBLISHED_SPLITS)})')


#: Parts of torch's ``weights_only`` messages that mean "refused to build
#: this object" (as opposed to a corrupt or truncated file, which shows as
#: e.g. "Unsupported operand").
_TORCH_REFUSALS = ('unsupported global', 'unsupported class',
                   'unrecognized function', 'not an allowed global',
                   'is blocked')


def _read_split_object(path: str) -> Any:
    """Read the file's Python object without running code from it."""
    ext = osp.splitext(path)[1].lower()
    if ext == '.json':
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    if ext == '.npy':
        obj = load_npy_safely(path)
        if isinstance(obj, np.ndarray) and obj.dtype == object \
                and obj.ndim == 0:
            obj = obj.item()
        return obj
    if ext in ('.pth', '.pt'):
        return torch_load_safely(path)
    raise ValueError(f'unsupported split file extension {ext!r} of {path} '
                     '(expected .pth, .npy or .json)')


def _split_from_object(obj: Any, path: str,
                       tasks: Optional[Sequence[str]]) -> PartialLabelSplit:
    if isinstance(obj, Mapping):
        if obj.get('format') == MANIFEST_FORMAT or 'mask' in obj:
            return _from_manifest(obj, path)
        if 'labels_weights' in obj:
            file_tasks = obj.get('tasks', tasks)
            split = _from_labels_weights(obj['labels_weights'], path,
                                         file_tasks)
            if 'sample_ids' in obj and obj['sample_ids'] is not None:
                split = PartialLabelSplit(split.tasks, split.mask,
                                          list(obj['sample_ids']), path)
            split.meta = dict(obj.get('meta', {}))
            return split
        if not obj:
            raise ValueError(f'split file {path} is an empty mapping')
        keys = [str(k) for k in obj]
        if all(k in PUBLISHED_TASK_NAMES for k in keys) or \
                _looks_like_task_id_lists(obj):
            return _from_task_id_lists(obj, path)
        if all(_is_id_list(v) for v in obj.values()):
            return _from_id_rows(obj, path)
    elif isinstance(obj, np.ndarray) and obj.ndim == 2:
        return _from_labels_weights(obj, path, tasks)
    raise ValueError(f'partial-label split file {path} has an unknown '
                     f'structure ({type(obj).__name__})')


def load_partial_split(path: PathLike,
                       tasks: Optional[Sequence[str]] = None
                       ) -> PartialLabelSplit:
    """Load a published split file or an mmdmtl manifest.

    Nothing in the file is executed: ``.npy`` object arrays go through a
    restricted unpickler and ``.pth`` files through ``torch.load(
    weights_only=True)`` with only numpy's number scalars added (see
    :mod:`.safe_split_loading`). Label flags must be 0 / 1 (or booleans).

    Args:
        path: ``.pth`` (published NYUv2 / Cityscapes ``labels_weights``,
            DiffusionMTL ``new_*.pth``, or our manifest), ``.npy`` (published
            PASCAL ``{task: [ids]}``) or ``.json`` (our manifest); or the
            name of a shipped published split (``'nyuv2_onelabel'``,
            ``'nyuv2_randomlabels'``, ``'cityscapes_onelabel'``,
            ``'pascal_onelabel'``, ``'pascal_randomlabels'``).
        tasks: Column order for a ``labels_weights`` file whose column count
            is not one of the published layouts.

    Returns:
        The split with mmdmtl task names.

    Raises:
        FileNotFoundError: the file does not exist.
        UnsafeSplitFileError: the file asks the unpickler for anything but
            plain data (nothing of it is executed).
        ValueError / KeyError: the file cannot be read, has an unknown
            structure or invalid values; the message names the file.
    """
    path = resolve_split_file(path)
    try:
        obj = _read_split_object(path)
    except UnsafeSplitFileError:
        raise
    except pickle.UnpicklingError as e:
        lines = [ln.strip() for ln in str(e).splitlines()
                 if any(k in ln.lower() for k in _TORCH_REFUSALS)]
        if lines:
            raise UnsafeSplitFileError(
                f'refusing to load split file {path}: torch\'s safe '
                '(weights_only) unpickler refused it: '
                f'{lines[0]} (a split '
                'file holds only tensors, dicts, lists, strings and numbers; '
                'nothing of this file was executed)') from e
        raise ValueError(f'cannot read partial-label split file {path}: '
                         f'{type(e).__name__}: {e}') from e
    except Exception as e:  # unreadable / corrupt / non-UTF-8 file
        raise ValueError(f'cannot read partial-label split file {path}: '
                         f'{type(e).__name__}: {e}') from e
    try:
        return _split_from_object(obj, path, tasks)
    except (ValueError, KeyError, TypeError) as e:
        msg = e.args[0] if e.args else str(e)
        if path in str(msg):
            raise
        raise type(e)(f'split file {path}: {msg}') from e


def _balanced_k_of_t(n: int, num_tasks: int, k: int,
                     rng: np.random.Generator) -> np.ndarray:
    """Each sample gets exactly ``k`` tasks; per-task counts differ by <=1.

    Samples are visited in random order and take the ``k`` least-used tasks,
    ties broken at random, so every combination can occur.
    """
    mask = np.zeros((n, num_tasks), dtype=bool)
    counts = np.zeros(num_tasks, dtype=np.int64)
    for i in rng.permutation(n):
        order = np.lexsort((rng.random(num_tasks), counts))
        chosen = order[:k]
        mask[i, chosen] = True
        counts[chosen] += 1
    return mask


def generate_partial_split(num_samples: int,
                           tasks: Sequence[str],
                           mode: str = 'onelabel',
                           seed: int = 0,
                           k: Optional[int] = None,
                           fractions: Optional[Mapping[str, float]] = None,
                           max_labels: Optional[int] = None,
                           sample_ids: Optional[Sequence[str]] = None
                           ) -> PartialLabelSplit:
    """Make a seeded partial-label split.

    Args:
        num_samples: Number of training samples ``N``.
        tasks: Task names (columns).
        mode: ``'onelabel'`` (exactly one task per sample, balanced over
            tasks), ``'randomlabels'`` (a uniformly random non-empty subset
            per sample, at most ``max_labels`` tasks), ``'k_of_t'`` (exactly
            ``k`` tasks per sample, balanced), ``'fraction'`` (each task
            independently labelled on ``round(f * N)`` random samples; tasks
            absent from ``fractions`` are fully labelled) or ``'full'``.
        seed: Random seed; the same arguments give the same split.
        k: Labels per sample for ``'k_of_t'``.
        fractions: ``{task: fraction in [0, 1]}`` for ``'fraction'``.
        max_labels: Optional cap on labels per sample for ``'randomlabels'``.
        sample_ids: Optional image ids of the rows (else positional).

    Returns:
        The split, with its settings in ``meta``.
    """
    tasks = check_tasks(tasks, where='generate_partial_split')
    t = len(tasks)
    if num_samples < 0:
        raise ValueError(f'num_samples must be >= 0, got {num_samples}')
    if mode not in SPLIT_MODES:
        raise ValueError(f'unknown split mode {mode!r}; choose from '
                         f'{list(SPLIT_MODES)}')
    rng = np.random.default_rng(seed)
    params: dict = {}
    if mode == 'full':
        mask = np.ones((num_samples, t), dtype=bool)
    elif mode == 'onelabel':
        mask = _balanced_k_of_t(num_samples, t, 1, rng)
    elif mode == 'k_of_t':
        if k is None or not 1 <= k <= t:
            raise ValueError(f'k_of_t needs 1 <= k <= {t}, got k={k}')
        params['k'] = int(k)
        mask = _balanced_k_of_t(num_samples, t, int(k), rng)
    elif mode == 'randomlabels':
        hi = t if max_labels is None else int(max_labels)
        if not 1 <= hi <= t:
            raise ValueError(f'max_labels must be in [1, {t}], got '
                             f'{max_labels}')
        params['max_labels'] = hi
        # all non-empty subsets with at most `hi` tasks, drawn uniformly
        codes = np.arange(1, 2**t)
        bits = (codes[:, None] >> np.arange(t)[None, :]) & 1
        subsets = bits[bits.sum(1) <= hi].astype(bool)
        mask = subsets[rng.integers(0, len(subsets), size=num_samples)]
    else:  # fraction
        fractions = dict(fractions or {})
        unknown = set(fractions) - set(tasks)
        if unknown:
            raise KeyError(f'fractions name tasks {sorted(unknown)} that are '
                           f'not in {list(tasks)}')
        mask = np.zeros((num_samples, t), dtype=bool)
        for j, name in enumerate(tasks):
            f = float(fractions.get(name, 1.0))
            if not 0.0 <= f <= 1.0:
                raise ValueError(f'fraction for {name!r} must be in [0, 1], '
                                 f'got {f}')
            m = int(round(f * num_samples))
            mask[rng.permutation(num_samples)[:m], j] = True
        params['fractions'] = {n: float(fractions.get(n, 1.0)) for n in tasks}
    meta = dict(mode=mode, seed=int(seed), **params)
    return PartialLabelSplit(tasks, mask,
                             None if sample_ids is None else list(sample_ids),
                             'generated', meta)


def save_partial_split(split: PartialLabelSplit, path: PathLike) -> str:
    """Write ``split`` as a ``.json`` manifest or a ``.pth`` file.

    The JSON manifest holds ``format``, ``version``, ``tasks``,
    ``num_samples``, ``sample_ids``, ``meta`` (generator settings),
    ``statistics`` and ``mask`` (rows of 0/1). The ``.pth`` file holds
    ``labels_weights`` (float tensor ``[N, T]``, like the published files)
    plus ``tasks``, ``sample_ids``, ``meta`` and ``statistics``.

    Returns:
        The path written.
    """
    path = str(path)
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    ext = osp.splitext(path)[1].lower()
    stats = split.statistics()
    if ext == '.json':
        obj = dict(
            format=MANIFEST_FORMAT,
            version=MANIFEST_VERSION,
            tasks=list(split.tasks),
            num_samples=len(split),
            sample_ids=split.sample_ids,
            meta=split.meta,
            statistics=stats,
            mask=split.mask.astype(int).tolist())
        with open(path, 'w') as f:
            json.dump(obj, f)
    elif ext in ('.pth', '.pt'):
        import torch
        torch.save(
            dict(
                labels_weights=torch.from_numpy(
                    split.mask.astype(np.float32)),
                tasks=list(split.tasks),
                sample_ids=split.sample_ids,
                meta=split.meta,
                statistics=stats), path)
    else:
        raise ValueError(f'cannot write split to {path}: use .json or .pth')
    return path
