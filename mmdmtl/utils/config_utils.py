"""Helpers that derive configs from configs (task subsets, head swaps), used
by the experiment runner, the label-efficiency sweep and tests."""
import copy
from typing import Iterable, List, Mapping

from mmengine.config import Config, ConfigDict

from mmdmtl.structures.tasks import check_tasks
from mmdmtl.tasks import TaskTable

#: metric type -> task, for sub-metric configs without a ``task`` key: the
#: ``default_metric`` of each registered task whose config names no task.
METRIC_TASK: Mapping[str, str] = TaskTable(
    lambda t: [(t.default_metric['type'], t.name)]
    if t.default_metric and 'task' not in t.default_metric else [])


def _metric_task(metric_cfg: dict) -> str:
    if 'task' in metric_cfg:
        return metric_cfg['task']
    return METRIC_TASK.get(metric_cfg.get('type'), '')


def _restrict_evaluator(ev, tasks: List[str]):
    if isinstance(ev, (list, tuple)):
        return [_restrict_evaluator(e, tasks) for e in ev]
    ev = copy.deepcopy(ev)
    if ev.get('type') == 'MultiTaskMetric':
        ev['task_metrics'] = [m for m in ev['task_metrics'] if _metric_task(m) in tasks]
        base = ev.get('baselines')
        if base:
            ev['baselines'] = {
                k: v for k, v in base.items() if k.split('/')[0] in tasks
            }
    return ev


def restrict_config_to_tasks(cfg: Config, tasks: Iterable[str]) -> Config:
    """Return a copy of ``cfg`` that trains and evaluates only ``tasks``.

    Edits the decode head (``tasks`` and ``loss_decode``), the ``tasks`` of
    every dataset, the evaluators' sub-metrics and Δm baselines, and the
    top-level ``tasks`` variable.
    """
    tasks = list(check_tasks(tasks, where='restrict_config_to_tasks'))
    cfg = copy.deepcopy(cfg)
    head = cfg.model.decode_head
    missing = [t for t in tasks if t not in head.tasks]
    if missing:
        raise KeyError(f'the config head has no task(s) {missing}; it has '
                       f'{list(head.tasks)}')
    head.tasks = ConfigDict({t: head.tasks[t] for t in tasks})
    if isinstance(head.get('loss_decode'), dict):
        head.loss_decode = ConfigDict(
            {t: v for t, v in head.loss_decode.items() if t in tasks})
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(loader) is not None and 'tasks' in cfg[loader].dataset:
            cfg[loader].dataset.tasks = list(tasks)
    for ev in ('val_evaluator', 'test_evaluator'):
        if cfg.get(ev) is not None:
            cfg[ev] = _restrict_evaluator(cfg[ev], tasks)
    if 'tasks' in cfg:
        cfg.tasks = list(tasks)
    return cfg


def set_head_type(cfg: Config, overrides: dict) -> Config:
    """Return a copy of ``cfg`` whose decode head is updated with
    ``overrides``; arguments the new head class does not accept (e.g. the
    diffusion settings when switching to ``MTLBaselineHead``) are dropped."""
    import inspect

    import mmdmtl.models  # noqa: F401  registers the heads
    from mmdmtl.registry import MODELS
    cfg = copy.deepcopy(cfg)
    head = cfg.model.decode_head
    head.update(overrides)
    cls = MODELS.get(head['type'])
    if cls is None:
        raise KeyError(f'unknown head type {head["type"]!r}')
    params = inspect.signature(cls.__init__).parameters
    if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
        for key in list(head.keys()):
            if key not in params and key != 'type':
                head.pop(key)
    return cfg
