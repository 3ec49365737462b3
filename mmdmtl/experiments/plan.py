"""Run plan of an experiment: which runs, their folders, label splits and
configs.

A run is ``(method, tasks, label setting, seed)``. Label settings:
``full`` (every label), ``onelabel`` / ``randomlabels`` (the paper's partial
settings) and ``frac<P>`` (every task labelled on P% of the training images,
independently per task).
"""
import glob
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

from .methods import MethodSpec


class RunSpec(NamedTuple):
    """One run of an experiment."""
    method: str
    tasks: Tuple[str, ...]
    split: str
    seed: int


@dataclass
class ExperimentSettings:
    """What every run of an experiment shares.

    Attributes:
        config: Base config (its head and dataset are modified per run).
        work_dir: Parent folder of the run folders.
        iters: Training iterations per run.
        all_tasks: Tasks of the multi-task models (and of the label splits).
        methods: Method specs by name.
        force: Re-run finished runs.
        cfg_options: Overrides applied to every run config (last).
        protocol: Extra run settings of a benchmark protocol (a
            :class:`mmdmtl.experiments.protocol.ProtocolSettings`) or ``None``.
    """
    config: str
    work_dir: str
    iters: int
    all_tasks: List[str]
    methods: dict = field(default_factory=dict)
    force: bool = False
    cfg_options: Optional[dict] = None
    protocol: Optional[object] = None


#: Label settings the runner knows besides ``frac<P>``.
NAMED_SPLITS = ('onelabel', 'randomlabels', 'full')


def label_percent(split: str) -> Optional[float]:
    """``5.0`` for a label setting named ``frac5`` (checked to be in
    (0, 100]), ``None`` for the other settings.

    Raises:
        ValueError: naming ``split`` when P is not a number in (0, 100].
    """
    if not split.startswith('frac'):
        return None
    try:
        pct = float(split[4:])
    except ValueError:
        raise ValueError(f'label setting {split!r}: expected frac<percent>, '
                         'e.g. frac10') from None
    if not 0 < pct <= 100:
        raise ValueError(f'label setting {split!r}: percent must be in (0, 100]')
    return pct


def label_fraction(split: str) -> Optional[float]:
    """``0.05`` for a label setting named ``frac5`` (every task labelled on
    5% of the images, independently), ``None`` for the other settings."""
    pct = label_percent(split)
    return None if pct is None else pct / 100.0


def fraction_split(pct: float) -> str:
    """Label-setting name of a percentage: ``5.0 -> 'frac5'``."""
    return f'frac{pct:g}'


def canonical_split(split: str) -> str:
    """The one name under which runs of a label setting are filed:
    ``frac50.0`` and ``frac5e1`` are ``frac50``; ``onelabel``,
    ``randomlabels`` and ``full`` are themselves.

    Raises:
        ValueError: naming ``split`` when it is none of these settings or its
            percent is not in (0, 100].
    """
    pct = label_percent(split)
    if pct is not None:
        return fraction_split(pct)
    if split not in NAMED_SPLITS:
        raise ValueError(f'label setting {split!r}: expected '
                         f'{", ".join(NAMED_SPLITS)} or frac<percent>')
    return split


def split_file_for(cfg, split: str, split_tasks: Sequence[str], out_dir: str) -> str:
    """Write (once) the partial-label split of the multi-task setting.

    Single-task models use the same file: a single-task model of task ``t``
    trains on exactly the images labelled for ``t`` in the multi-task split,
    like the paper's same-setting single-task baselines. The split is fixed
    (seed 0) across training seeds, as published splits are.
    """
    from mmdmtl.datasets.partial_labels import generate_partial_split, save_partial_split
    num = cfg.train_dataloader.dataset.get('num_train')
    if num is None:
        raise KeyError('--splits onelabel/randomlabels needs a dataset with '
                       '`num_train` (the synthetic one); for real datasets '
                       'pass split_file with --cfg-options and --splits full')
    path = osp.join(out_dir, f'{split}_{"-".join(split_tasks)}_n{num}.json')
    if not osp.isfile(path):
        os.makedirs(out_dir, exist_ok=True)
        frac = label_fraction(split)
        if frac is None:
            split_obj = generate_partial_split(num, list(split_tasks), split, seed=0)
        else:
            split_obj = generate_partial_split(
                num, list(split_tasks), 'fraction', seed=0,
                fractions={t: frac for t in split_tasks})
        save_partial_split(split_obj, path)
    return path


def run_name(method: str, tasks: Sequence[str], split: str, seed: int,
             single_task: Optional[bool] = None) -> str:
    """Work-dir name of one run, e.g. ``onelabel/seed0/stl_depth``."""
    single = method == 'stl' if single_task is None else single_task
    return f'{split}/seed{seed}/{method}' + (f'_{tasks[0]}' if single else '')


def _expand(methods: Sequence[MethodSpec], tasks: Sequence[str], split: str,
            seed: int) -> List[RunSpec]:
    out = []
    for m in methods:
        task_sets = [(t,) for t in tasks] if m.single_task else [tuple(tasks)]
        out += [RunSpec(m.name, tt, split, seed) for tt in task_sets]
    return out


def with_parents(specs: Sequence[MethodSpec],
                 methods: Dict[str, MethodSpec]) -> List[MethodSpec]:
    """``specs`` with the method every staged method starts from (and its
    own, recursively) put before its first dependant when it is missing.

    Raises:
        KeyError: a ``start_from`` names no method of ``methods``.
        ValueError: a method starts from one of another kind (single-task
            from multi-task or back) or the ``start_from`` chain is a cycle.
    """
    out: List[MethodSpec] = []

    def add(spec: MethodSpec, chain: Tuple[str, ...]) -> None:
        if spec.name in chain:
            raise ValueError('methods start from each other in a cycle: '
                             + ' -> '.join(chain + (spec.name,)))
        if spec.start_from is not None:
            parent = methods.get(spec.start_from)
            if parent is None:
                raise KeyError(f'method {spec.name!r} ({spec.path}) starts from unknown '
                               f'method {spec.start_from!r}; choose from {list(methods)}')
            if parent.single_task != spec.single_task:
                raise ValueError(f'method {spec.name!r} ({spec.path}) starts from '
                                 f'{parent.name!r}, which is '
                                 f'{"" if parent.single_task else "not "}single-task')
            add(parent, chain + (spec.name,))
        if all(s.name != spec.name for s in out):
            out.append(spec)

    for spec in specs:
        add(spec, ())
    return out


def plan_stages(plan: Sequence[RunSpec],
                methods: Dict[str, MethodSpec]) -> List[List[RunSpec]]:
    """``plan`` cut into stages run one after the other: a run comes in a
    later stage than the run it starts from (order kept within a stage)."""
    depth: Dict[str, int] = {}

    def level(name: str) -> int:
        if name not in depth:
            parent = methods[name].start_from
            depth[name] = 0 if parent is None else level(parent) + 1
        return depth[name]

    stages: Dict[int, List[RunSpec]] = {}
    for run in plan:
        stages.setdefault(level(run.method), []).append(run)
    return [stages[k] for k in sorted(stages)]


def table_plan(methods: Sequence[MethodSpec], tasks: Sequence[str],
               splits: Iterable[str], seeds: Iterable[int]) -> List[RunSpec]:
    """Runs of the Table 3 replica: every method on every label setting and
    seed; single-task methods once per task."""
    return [r for split in splits for seed in seeds
            for r in _expand(methods, tasks, split, seed)]


def sweep_plan(methods: Sequence[MethodSpec], reference: Sequence[MethodSpec],
               tasks: Sequence[str], fractions: Iterable[float],
               seeds: Iterable[int]) -> List[RunSpec]:
    """Runs of the label-efficiency sweep: the ``reference`` (single-task)
    methods on 100% of the labels, the multi-task ``methods`` on every
    fraction, every seed."""
    fracs = sorted(set(float(p) for p in fractions))
    for p in fracs:
        label_fraction(fraction_split(p))  # validates the range
    plan = [r for seed in seeds
            for r in _expand(reference, tasks, fraction_split(100), seed)]
    plan += [r for p in fracs for seed in seeds
             for r in _expand(methods, tasks, fraction_split(p), seed)]
    return plan


def build_run_cfg(base_cfg_path: str, method, tasks: Sequence[str],
                  split: str, seed: int, iters: int, work_dir: str,
                  split_tasks: Sequence[str] = None,
                  split_dir: str = '.'):
    """Make the config of one run (``method``: a name of a bundled method or
    a :class:`MethodSpec`)."""
    from mmengine.config import Config

    from mmdmtl.utils.config_utils import restrict_config_to_tasks, set_head_type

    from .methods import resolve_methods
    spec = method if isinstance(method, MethodSpec) else resolve_methods([method])[0]
    cfg = Config.fromfile(base_cfg_path)
    cfg = restrict_config_to_tasks(cfg, tasks)
    cfg = set_head_type(cfg, spec.head)
    if spec.cfg_options:
        cfg.merge_from_dict(spec.cfg_options)
    ds = cfg.train_dataloader.dataset
    ds['split_mode'] = None
    ds['split_file'] = None if split == 'full' else split_file_for(
        cfg, split, split_tasks or tasks, split_dir)
    # train on the images labelled for at least one of the run's tasks (a
    # single-task model of task t: the images labelled for t), so that every
    # batch is made of labelled samples
    ds['skip_unlabeled'] = True
    cfg.randomness = dict(seed=seed)
    cfg.work_dir = work_dir
    cfg.train_cfg.max_iters = iters
    cfg.train_cfg.val_interval = iters
    for sch in cfg.param_scheduler:
        if sch.get('end', 0) > iters:
            sch['end'] = iters
        if sch.get('begin', 0) >= iters:
            sch['begin'] = 0
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', by_epoch=False, interval=iters,
        max_keep_ckpts=1)
    cfg.default_hooks.logger.interval = max(1, iters // 10)
    cfg.default_hooks.visualization = dict(type='MTLVisualizationHook',
                                           draw=False)
    return cfg


def start_checkpoint(settings: ExperimentSettings, run: RunSpec) -> str:
    """Checkpoint a staged run starts from: the best checkpoint
    (``best_*.pth``, the protocol's choice on validation) of the run of its
    ``start_from`` method with the same tasks, label setting and seed, else
    that run's last ``iter_*.pth``.

    Raises:
        FileNotFoundError: that run saved no checkpoint (names its folder).
        ValueError: that run holds several best checkpoints.
    """
    spec = settings.methods[run.method]
    parent = run_dir(settings, RunSpec(spec.start_from, run.tasks, run.split, run.seed))
    best = sorted(glob.glob(osp.join(parent, 'best_*.pth')))
    if len(best) == 1:
        return best[0]
    if len(best) > 1:
        raise ValueError(f'{parent}: several best checkpoints {best}; '
                         f'run {run} cannot choose one')
    # the newest iter_N.pth, as an auto-resume would pick it
    from mmdmtl.engine.resume_candidates import resume_candidates
    last = [p for p in resume_candidates(parent, parent, 'iter_{}.pth')[0] if osp.isfile(p)]
    if not last:
        raise FileNotFoundError(
            f'run {run} starts from the {spec.start_from!r} run in {parent}, '
            'which has no checkpoint (best_*.pth or iter_*.pth)')
    return last[0]


def prepare_run(settings: ExperimentSettings,
                run: RunSpec) -> Optional[Tuple[str, str, str]]:
    """Write one run's config (and its split file); ``None`` when the run
    already finished (reused unless ``settings.force``).

    Returns:
        ``(name, config path, metrics json path)`` of a run still to do.
    """
    spec = settings.methods[run.method]
    name = run_name(run.method, run.tasks, run.split, run.seed, spec.single_task)
    wd = osp.join(settings.work_dir, name)
    out_json = osp.join(wd, 'test_metrics.json')
    if osp.isfile(out_json) and not settings.force:
        return None
    os.makedirs(wd, exist_ok=True)
    iters = spec.run_iters(settings.iters)  # --iters unless a staged method scales it
    cfg = build_run_cfg(settings.config, spec, run.tasks, run.split, run.seed,
                        iters, wd, split_tasks=settings.all_tasks,
                        split_dir=osp.join(settings.work_dir, 'splits'))
    if settings.protocol is not None:
        # a staged run keeps the learning rate of the full-length runs
        cfg = settings.protocol.apply(cfg, iters, lr_iters=settings.iters)
    if spec.start_from is not None:
        cfg.load_from = osp.abspath(start_checkpoint(settings, run))
    if settings.cfg_options:
        cfg.merge_from_dict(settings.cfg_options)
    cfg_path = osp.join(wd, 'run_config.py')
    cfg.dump(cfg_path)
    return name, cfg_path, out_json


def run_dir(settings: ExperimentSettings, run: RunSpec) -> str:
    """Work dir of a run."""
    spec = settings.methods[run.method]
    return osp.join(settings.work_dir,
                    run_name(run.method, run.tasks, run.split, run.seed, spec.single_task))
