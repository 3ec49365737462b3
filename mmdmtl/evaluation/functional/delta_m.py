"""Multi-task performance Δm relative to single-task baselines.

``Δm = 1/K * sum_k (-1)^{l_k} (M_k - M_{b,k}) / M_{b,k} * 100`` where
``l_k = 1`` when lower is better for metric ``k`` (Maninis et al. 2019;
DiffusionMTL Table 3 is reproduced to within 0.01 with this formula).
"""
from typing import Dict, Mapping, Optional

from mmdmtl.tasks import TaskTable, get_task, task_names

#: Metric names (the part after ``task/``) whose larger value is better, for
#: keys whose prefix is no registered task (each task declares the
#: directions of its own metrics, ``BaseTask.metric_directions``).
HIGHER_IS_BETTER = frozenset({
    'mIoU', 'aAcc', 'mAcc', 'mDice', 'mFscore', 'maxF', 'odsF', 'oisF', 'AP',
    'd1', 'd2', 'd3', 'a11.25', 'a22.5', 'a30'
})
#: Metric names whose smaller value is better.
LOWER_IS_BETTER = frozenset({
    'absErr', 'rmse', 'abs_rel', 'sq_rel', 'log_rmse', 'mean', 'median', 'mErr', 'loss'
})

#: The headline metric key of each registered task (the paper's Δm of
#: Table 3 uses these), ``{task: 'task/metric'}``; a live view of
#: ``BaseTask.headline_key``.
HEADLINE_METRICS: Mapping[str, str] = TaskTable(lambda t: [(t.name, t.headline_key)])


def metric_higher_is_better(key: str,
                            overrides: Optional[Mapping[str, bool]] = None) -> bool:
    """Direction of a metric given its full key (``'depth/absErr'``).

    Looked up in ``overrides``, then in the metric directions of the task
    named by the key's prefix (``BaseTask.metric_directions``), then in the
    name tables of this module.

    Args:
        key: Metric key; its last ``/``-separated part is looked up.
        overrides: ``{key or name: bool}`` taking precedence.

    Raises:
        KeyError: if the direction is unknown and not overridden.
    """
    name = key.rsplit('/', 1)[-1]
    if overrides:
        for k in (key, name):
            if k in overrides:
                return bool(overrides[k])
    prefix = key.split('/', 1)[0]
    if '/' in key and prefix in task_names() and name in get_task(prefix).metric_directions:
        return get_task(prefix).metric_direction(name)
    if name in HIGHER_IS_BETTER:
        return True
    if name in LOWER_IS_BETTER:
        return False
    raise KeyError(f'Unknown direction of metric {key!r}: pass '
                   f'higher_is_better={{{key!r}: True/False}}')


def flatten_baselines(baselines: Mapping) -> Dict[str, float]:
    """Normalise the baseline spec to ``{'task/metric': value}``.

    Accepts a flat dict ``{'semseg/mIoU': 45.28, ...}`` or one nested by
    task ``{'semseg': {'mIoU': 45.28}}`` (inner keys may also be full keys).
    """
    flat: Dict[str, float] = {}
    for k, v in baselines.items():
        if isinstance(v, Mapping):
            for name, value in v.items():
                full = name if '/' in name else f'{k}/{name}'
                flat[full] = float(value)
        else:
            flat[k] = float(v)
    for k, v in flat.items():
        if v == 0:
            raise ValueError(f'baseline {k!r} is 0; Δm divides by the baseline')
    return flat


def delta_m(results: Mapping[str, float],
            baselines: Mapping,
            higher_is_better: Optional[Mapping[str, bool]] = None) -> float:
    """Δm in percent of ``results`` against ``baselines``.

    Args:
        results: Evaluated metrics by full key.
        baselines: Baseline values (see :func:`flatten_baselines`).
        higher_is_better: Direction overrides by key or metric name.

    Returns:
        The mean signed relative improvement in percent (positive = better
        than the baselines).

    Raises:
        KeyError: naming baseline keys missing from ``results``.
    """
    flat = flatten_baselines(baselines)
    missing = [k for k in flat if k not in results]
    if missing:
        raise KeyError(f'Δm baselines {missing} are not among the evaluated metrics '
                       f'{sorted(results)}')
    if not flat:
        raise ValueError('Δm needs at least one baseline metric')
    total = 0.0
    for k, base in flat.items():
        sign = 1.0 if metric_higher_is_better(k, higher_is_better) else -1.0
        total += sign * (float(results[k]) - base) / base * 100.0
    return total / len(flat)
