"""Check that a config's model, datasets and evaluators agree on the tasks.

A multi-task config names its tasks three times: in ``model.decode_head.tasks``
(``{task: output channels}``), in every dataset's ``tasks`` and in the
evaluator's per-task metrics. If they disagree, training either crashes deep
inside a loss or, worse, silently ignores a task (labels nobody predicts,
predictions nobody evaluates, a semantic head with the wrong number of
classes). The Δm ``baselines`` of a ``MultiTaskMetric`` must also name
metrics that its sub-metrics compute: a child config that narrows
``task_metrics`` but not ``baselines`` (mmengine merges dicts with the base
config's) would otherwise crash at the first validation, hours into
training. :class:`~mmdmtl.engine.hooks.MTLConsistencyCheckHook` (which
:class:`~mmdmtl.engine.MTLRunner` adds by default) calls
:func:`check_runner_consistency` before the runner trains, validates or
tests, so such a config fails at once with a message that names both sides.
"""
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

from mmdmtl.structures.tasks import TASKS, get_task


class TaskConfigMismatchError(ValueError):
    """The model's head, a dataset or an evaluator disagree on the tasks or
    on a task's number of classes / channels."""


def _unwrap(module: Any) -> Any:
    """The model inside a DDP / FSDP wrapper (or the model itself)."""
    return getattr(module, 'module', module)


def head_tasks(model: Any) -> Optional[Dict[str, int]]:
    """``{task: output channels}`` of the model's multi-task decode head.

    Returns ``None`` for a model without a multi-task head (e.g. a plain
    mmseg segmentor), which is then not checked.
    """
    head = getattr(_unwrap(model), 'decode_head', None)
    tasks = getattr(head, 'tasks', None)
    if not isinstance(tasks, Mapping) or not all(t in TASKS for t in tasks):
        return None
    return {t: int(c) for t, c in tasks.items()}


def dataset_metainfo(dataset: Any) -> Optional[dict]:
    """The metainfo of a dataset or of a dataset wrapper (``RepeatDataset``,
    ``ConcatDataset``...), or ``None`` when it has none."""
    for obj in (dataset, getattr(dataset, 'dataset', None)):
        meta = getattr(obj, 'metainfo', None)
        if isinstance(meta, Mapping) and meta.get('tasks') is not None:
            return dict(meta)
    datasets = getattr(dataset, 'datasets', None)
    if datasets:
        return dataset_metainfo(datasets[0])
    return None


def expected_channels(task: str, metainfo: Mapping) -> Optional[int]:
    """Number of output channels ``task`` needs for a dataset with
    ``metainfo``: the number of class names for ``semseg`` (``classes``) and
    ``parts`` (``parts_classes``), else ``task_channels[task]``; ``None`` if
    the metainfo does not say."""
    names_key = get_task(task).classes_key
    names = metainfo.get(names_key) if names_key else None
    if names:
        return len(names)
    channels = (metainfo.get('task_channels') or {}).get(task)
    return int(channels) if channels else None


def check_head_matches_metainfo(tasks: Mapping[str, int], metainfo: Mapping,
                                where: str = 'dataset') -> None:
    """Raise if a head's ``{task: channels}`` and a dataset's metainfo
    disagree on the task set or on any task's number of classes / channels.

    Args:
        tasks: ``model.decode_head.tasks``.
        metainfo: The dataset's metainfo (``tasks`` = its selected tasks,
            ``classes``, ``parts_classes``, ``task_channels``).
        where: Names the dataset in the message (e.g. ``'train_dataloader'``).

    Raises:
        TaskConfigMismatchError: naming the differing tasks or counts and the
            config keys to fix.
    """
    ds_tasks = list(metainfo.get('tasks') or ())
    if not ds_tasks:
        return
    head_only = [t for t in tasks if t not in ds_tasks]
    data_only = [t for t in ds_tasks if t not in tasks]
    if head_only or data_only:
        parts = []
        if data_only:
            parts.append(f'{data_only} are loaded by the dataset but not predicted by '
                         'the head')
        if head_only:
            parts.append(f'{head_only} are predicted by the head but not loaded by the '
                         'dataset')
        raise TaskConfigMismatchError(
            f'Config mismatch between model.decode_head.tasks={dict(tasks)} and '
            f'{where}.dataset.tasks={ds_tasks}: ' + '; '.join(parts) + '. Use the '
            'same task names in both.')
    wrong: List[str] = []
    for task in ds_tasks:
        need = expected_channels(task, metainfo)
        if need is not None and int(tasks[task]) != need:
            what = 'classes' if get_task(task).channels_are_classes else 'channels'
            wrong.append(f'{task}: head has {tasks[task]} {what}, dataset has {need}')
    if wrong:
        raise TaskConfigMismatchError(
            f'Config mismatch between model.decode_head.tasks={dict(tasks)} and '
            f'{where}.dataset (tasks {ds_tasks}): ' + '; '.join(wrong) + '. Set the head\'s output '
            'channels to the dataset\'s number of classes.')


def evaluator_tasks(evaluator: Any) -> List[str]:
    """Tasks evaluated by an mmengine ``Evaluator`` (or a metric, or a list
    of them): every metric with a known ``task`` attribute, looking inside
    ``MultiTaskMetric.metrics``."""
    found: List[str] = []
    stack: List[Any] = [evaluator]
    while stack:
        obj = stack.pop(0)
        if isinstance(obj, (list, tuple)):
            stack.extend(obj)
            continue
        task = getattr(obj, 'task', None)
        if isinstance(task, str) and task in TASKS and task not in found:
            found.append(task)
        inner = getattr(obj, 'metrics', None)
        if isinstance(inner, (list, tuple)):
            stack.extend(inner)
    return found


def check_evaluator_tasks(tasks: Iterable[str], evaluator: Any,
                          where: str = 'val_evaluator') -> None:
    """Raise if ``evaluator`` evaluates a task the head does not predict."""
    tasks = list(tasks)
    extra = [t for t in evaluator_tasks(evaluator) if t not in tasks]
    if extra:
        raise TaskConfigMismatchError(
            f'Config mismatch: {where} evaluates {extra}, which '
            f'model.decode_head.tasks={tasks} does not predict. Remove those '
            'metrics or add the tasks to the head.')


def declared_metric_keys(metric: Any) -> Optional[List[str]]:
    """The keys a metric declares it returns (``metric.metric_keys()``, see
    :class:`~mmdmtl.evaluation.BaseTaskMetric`), or ``None`` for a metric
    that does not declare them (e.g. a plain mmseg metric)."""
    keys = getattr(metric, 'metric_keys', None)
    if not callable(keys):
        return None
    keys = list(keys())
    return keys or None


def _metrics_with_baselines(evaluator: Any) -> List[Any]:
    """Every metric inside ``evaluator`` (an Evaluator, a metric or a list)
    that has non-empty Δm ``baselines`` and sub-``metrics``."""
    found: List[Any] = []
    stack: List[Any] = [evaluator]
    while stack:
        obj = stack.pop(0)
        if isinstance(obj, (list, tuple)):
            stack.extend(obj)
            continue
        inner = getattr(obj, 'metrics', None)
        if isinstance(getattr(obj, 'baselines', None), Mapping) and obj.baselines \
                and isinstance(inner, (list, tuple)):
            found.append(obj)
        elif isinstance(inner, (list, tuple)):
            stack.extend(inner)
    return found


def check_evaluator_baselines(evaluator: Any, where: str = 'val_evaluator') -> None:
    """Raise if a ``MultiTaskMetric``'s Δm baselines name metrics that its
    sub-metrics do not compute.

    Keys of sub-metrics that do not declare their outputs (see
    :func:`declared_metric_keys`) cannot be checked and are accepted.

    Args:
        evaluator: A built Evaluator, metric or list of metrics.
        where: Names the evaluator in the message (e.g. ``'val_evaluator'``).

    Raises:
        TaskConfigMismatchError: naming the baseline keys that will not be
            computed and the keys that will.
    """
    for metric in _metrics_with_baselines(evaluator):
        computed: List[str] = []
        opaque = set()
        for sub in metric.metrics:
            keys = declared_metric_keys(sub)
            if keys is None:
                opaque.add(getattr(sub, 'prefix', None))
            else:
                computed.extend(keys)
        missing = [
            k for k in metric.baselines
            if k not in computed and (k.rsplit('/', 1)[0] if '/' in k else None) not in opaque
        ]
        if missing:
            raise TaskConfigMismatchError(
                f'Config mismatch: {where}.baselines names {missing}, which {where} does '
                f'not compute (its metrics are {computed}), so Δm would fail at the first '
                'evaluation. Give a baseline only for evaluated metrics; note that a child '
                "config's `baselines` dict is merged with its base config's: replace it "
                "with baselines={'_delete_': True, ...}.")


def check_runner_consistency(model: Any, loops: Sequence[tuple]) -> None:
    """Check a model against the datasets and evaluators of built loops.

    Args:
        model: The (possibly DDP-wrapped) model.
        loops: ``(name, loop)`` pairs, e.g. ``[('train_dataloader',
            runner.train_loop)]``; a loop without ``dataloader`` (not built
            yet) is skipped.

    Raises:
        TaskConfigMismatchError: see :func:`check_head_matches_metainfo`,
            :func:`check_evaluator_tasks` and
            :func:`check_evaluator_baselines`.
    """
    for name, loop in loops:
        evaluator = getattr(loop, 'evaluator', None)
        if evaluator is not None:
            check_evaluator_baselines(evaluator, where=name.replace('dataloader', 'evaluator'))
    tasks = head_tasks(model)
    if tasks is None:
        return
    for name, loop in loops:
        dataloader = getattr(loop, 'dataloader', None)
        dataset = getattr(dataloader, 'dataset', None)
        meta = dataset_metainfo(dataset) if dataset is not None else None
        if meta is not None:
            check_head_matches_metainfo(tasks, meta, where=name)
        evaluator = getattr(loop, 'evaluator', None)
        if evaluator is not None:
            check_evaluator_tasks(tasks, evaluator,
                                  where=name.replace('dataloader', 'evaluator'))
