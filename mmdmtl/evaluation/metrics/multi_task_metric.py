"""Composite multi-task metric with the Δm summary."""
from typing import Dict, Mapping, Optional, Sequence, Union

from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from mmdmtl.registry import METRICS

from ..functional.delta_m import delta_m, flatten_baselines, metric_higher_is_better


@METRICS.register_module()
class MultiTaskMetric(BaseMetric):
    """Run several task metrics as one and add Δm against baselines.

    ``process`` is forwarded to every sub-metric; ``evaluate`` calls each
    sub-metric's own ``evaluate`` (so each collects its per-sample results
    across processes exactly as it would alone) and returns the union of
    their keys plus ``mtl/delta_m``:

    ``Δm = mean_k s_k (M_k - B_k) / B_k * 100`` (percent), with ``s_k = +1``
    when higher is better for metric ``k`` and ``-1`` otherwise (the
    DiffusionMTL / MTI-Net definition). Use it for model selection with
    ``default_hooks.checkpoint.save_best='mtl/delta_m'`` and ``rule='greater'``.

    Args:
        task_metrics: Sub-metric configs (or built metrics); their key
            prefixes must differ. (Not named ``metrics``: mmengine's Runner
            treats an evaluator dict with a ``metrics`` key as an Evaluator
            config and would not build this class.)
        baselines: Single-task reference values, flat
            ``{'semseg/mIoU': 45.28, 'depth/absErr': 0.4802}`` or by task
            ``{'semseg': {'mIoU': 45.28}}``. Without baselines no Δm is
            reported.
        higher_is_better: Direction overrides ``{key or metric name: bool}``
            for metrics not in the built-in table (mIoU, maxF, odsF, d1...
            higher; absErr, rmse, mean, median... lower).
        collect_device: Unused by the composite itself (each sub-metric
            collects); kept for the BaseMetric interface.
        prefix: Prefix of the Δm key (default ``'mtl'``).

    Example:
        >>> val_evaluator = dict(
        ...     type='MultiTaskMetric',
        ...     task_metrics=[dict(type='MTLIoUMetric', task='semseg'),
        ...                   dict(type='MTLDepthMetric'),
        ...                   dict(type='SurfaceNormalMetric')],
        ...     baselines={'semseg/mIoU': 45.28, 'depth/absErr': 0.4802,
        ...                'normal/mean': 25.93})
    """

    default_prefix = 'mtl'

    def __init__(self,
                 task_metrics: Sequence[Union[dict, BaseMetric]],
                 baselines: Optional[Mapping] = None,
                 higher_is_better: Optional[Mapping[str, bool]] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if not task_metrics:
            raise ValueError('MultiTaskMetric needs at least one entry in task_metrics')
        self.metrics = [METRICS.build(m) if isinstance(m, dict) else m for m in task_metrics]
        prefixes = [m.prefix for m in self.metrics]
        if len(set(prefixes)) != len(prefixes):
            raise ValueError(f'MultiTaskMetric: sub-metric prefixes {prefixes} must be unique')
        self.baselines: Dict[str, float] = flatten_baselines(baselines or {})
        self.higher_is_better = dict(higher_is_better or {})
        for key in self.baselines:  # fail at build time on unknown directions
            metric_higher_is_better(key, self.higher_is_better)
        if not self.baselines:
            print_log('MultiTaskMetric: no baselines given, Δm will not be reported',
                      logger='current', level=30)

    @property
    def dataset_meta(self) -> Optional[dict]:
        """Meta info of the dataset, shared with every sub-metric."""
        return self._dataset_meta

    @dataset_meta.setter
    def dataset_meta(self, dataset_meta: dict) -> None:
        self._dataset_meta = dataset_meta
        for m in self.metrics:
            m.dataset_meta = dataset_meta

    def process(self, data_batch, data_samples: Sequence) -> None:
        """Forward the batch to every sub-metric."""
        for m in self.metrics:
            m.process(data_batch, data_samples)

    def compute_metrics(self, results: list) -> dict:
        """Not used: :meth:`evaluate` delegates to the sub-metrics."""
        return {}

    def evaluate(self, size: int) -> dict:
        """Evaluate every sub-metric, then add ``<prefix>/delta_m``."""
        out: Dict[str, float] = {}
        for m in self.metrics:
            res = m.evaluate(size)
            clash = set(res) & set(out)
            if clash:
                raise ValueError(f'MultiTaskMetric: duplicate metric keys {sorted(clash)}')
            out.update(res)
        if self.baselines:
            key = f'{self.prefix}/delta_m'
            out[key] = delta_m(out, self.baselines, self.higher_is_better)
            parts = []
            for k, base in self.baselines.items():
                sign = 1 if metric_higher_is_better(k, self.higher_is_better) else -1
                parts.append(f'{k}={float(out[k]):.4f} vs {base:g} '
                             f'({sign * (float(out[k]) - base) / base * 100:+.2f}%)')
            print_log(f'{key} = {out[key]:+.2f}%: ' + '; '.join(parts), logger='current')
        return out
