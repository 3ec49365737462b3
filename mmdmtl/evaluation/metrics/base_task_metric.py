"""Shared plumbing of the per-task metrics: fetching a task's prediction and
ground truth from a data sample, honouring partial labels, and keeping one
result entry per sample so that distributed collection stays exact."""
import math
from abc import abstractmethod
from logging import WARNING
from typing import Any, List, Optional, Sequence, Tuple

import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from mmdmtl.structures import MTLDataSample, get_task


def sample_name(sample: Any) -> str:
    """A human-readable identifier of a sample for error messages."""
    meta = MTLDataSample.wrap(sample).metainfo
    for key in ('img_path', 'sample_idx', 'img_id'):
        v = meta.get(key)
        if v is not None:
            return f'{key}={v}'
    return '<unnamed sample>'


class BaseTaskMetric(BaseMetric):
    """Base class of metrics that evaluate one task of a multi-task model.

    For every sample :meth:`process` appends exactly one entry to
    ``self.results`` (``None`` for a sample skipped because the task is
    unlabelled or its ground truth is missing). mmengine's
    ``collect_results`` relies on one entry per sample to drop the samples a
    distributed sampler pads, so the results are identical for any batch
    size and number of processes. Entries hold small per-sample sufficient
    statistics, never whole maps.

    Non-finite predictions: if any evaluated pixel (one with valid ground
    truth) of any sample has a NaN or +-inf prediction, **every** metric of
    the task is NaN for the set (so ``mtl/delta_m`` is NaN too and such a
    checkpoint is never kept as ``save_best``), and a warning gives the
    number of such pixels and samples and names the first sample. A
    non-finite output is a failure of the model; dropping those pixels or
    thresholding NaN as "negative" could improve a score. Subclasses report
    the count through :meth:`nonfinite_pixels`.

    Subclasses list the names of the metrics they return in
    ``metric_names``; the returned keys are ``<prefix>/<name>``
    (:meth:`metric_keys`), which the config consistency check compares with
    the Δm baselines before training.

    Args:
        task: Task name (see :mod:`mmdmtl.structures.tasks`).
        collect_device: ``'cpu'`` or ``'gpu'``.
        prefix: Key prefix; defaults to the task name, giving keys such as
            ``depth/absErr``.
    """

    #: Names (without prefix) of the metrics :meth:`summarize` returns.
    metric_names: Tuple[str, ...] = ()

    def __init__(self, task: str, collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        self.task = task
        self.task_spec = get_task(task)
        super().__init__(collect_device=collect_device, prefix=prefix or task)
        self._nonfinite_warned = False

    def metric_keys(self) -> List[str]:
        """The keys :meth:`evaluate` returns, e.g. ``['depth/absErr', ...]``."""
        return [f'{self.prefix}/{name}' for name in self.metric_names]

    def nonfinite_pixels(self, entry: Any) -> int:
        """Number of evaluated pixels with a non-finite prediction in one
        :meth:`sample_statistics` entry (0 for metrics whose predictions
        cannot be non-finite, e.g. label maps)."""
        return 0

    def fetch(self, sample: Any) -> Optional[Tuple[torch.Tensor, torch.Tensor]]:
        """Return ``(pred, gt)`` CPU tensors of this task, or ``None`` to skip.

        Raises:
            KeyError: if the ground truth is labelled but the prediction is
                missing (the model does not predict this task).
            ValueError: if prediction and ground truth sizes differ.
        """
        sample = MTLDataSample.wrap(sample)
        if sample.has_task_mask() and not sample.is_labelled(self.task):
            return None
        gt = sample.gt(self.task)
        if gt is None:
            return None
        pred = sample.pred(self.task)
        if pred is None:
            keys = sorted(list(sample.keys()) + list(sample.metainfo_keys()))
            raise KeyError(f'{type(self).__name__}: sample {sample_name(sample)} has ground '
                           f'truth {self.task_spec.gt_field!r} but no prediction '
                           f'{self.task_spec.pred_field!r}; its keys are {list(keys)}')
        if pred.shape[-2:] != gt.shape[-2:]:
            raise ValueError(f'{type(self).__name__}: sample {sample_name(sample)}: '
                             f'{self.task_spec.pred_field} has size {tuple(pred.shape[-2:])} '
                             f'but {self.task_spec.gt_field} has {tuple(gt.shape[-2:])}; '
                             'predictions must be at the original image size')
        return pred.detach().cpu(), gt.detach().cpu()

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Append one statistics entry (or ``None``) per sample; warn (once
        per evaluation and process) naming the first sample with non-finite
        predictions."""
        for sample in data_samples:
            pair = self.fetch(sample)
            entry = None if pair is None else self.sample_statistics(pair[0], pair[1], sample)
            self.results.append(entry)
            if entry is not None and not self._nonfinite_warned:
                bad = self.nonfinite_pixels(entry)
                if bad:
                    self._nonfinite_warned = True
                    print_log(f'{self.prefix}: sample {sample_name(sample)} has {bad} '
                              'evaluated pixels with a non-finite (NaN/inf) prediction; '
                              f'every {self.prefix} metric will be NaN', logger='current',
                              level=WARNING)

    @abstractmethod
    def sample_statistics(self, pred: torch.Tensor, gt: torch.Tensor, sample: Any) -> Any:
        """Small, additive statistics of one sample."""

    @abstractmethod
    def summarize(self, results: List[Any]) -> dict:
        """Metrics from the statistics of all evaluated samples."""

    def evaluate(self, size: int) -> dict:
        """mmengine's evaluate; afterwards the next evaluation may warn again
        about non-finite predictions (on every process)."""
        try:
            return super().evaluate(size)
        finally:
            self._nonfinite_warned = False

    def compute_metrics(self, results: list) -> dict:
        """Drop skipped samples, log how many, then :meth:`summarize`; all
        metrics are NaN if any evaluated pixel has a non-finite prediction."""
        used = [r for r in results if r is not None]
        skipped = len(results) - len(used)
        print_log(f'{self.prefix}: evaluated {len(used)} samples, skipped {skipped} '
                  '(task unlabelled or ground truth missing)', logger='current')
        if not used:
            print_log(f'{self.prefix}: no sample with ground truth; metrics are NaN',
                      logger='current', level=WARNING)
        metrics = self.summarize(used)
        bad = [self.nonfinite_pixels(r) for r in used]
        if any(bad):
            print_log(f'{self.prefix}: {sum(bad)} evaluated pixels in '
                      f'{sum(b > 0 for b in bad)} of {len(used)} samples have a non-finite '
                      f'(NaN/inf) prediction; every {self.prefix} metric is NaN',
                      logger='current', level=WARNING)
            metrics = {k: math.nan for k in metrics}
        return metrics
