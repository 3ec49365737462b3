"""Helpers for the evaluation tests: build data samples the way mmengine's
Evaluator hands them to metrics (``SegDataSample.to_dict()``)."""
from typing import Dict, Optional

import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmdmtl.structures import get_task


def build_sample(preds: Dict[str, np.ndarray],
                 gts: Dict[str, np.ndarray],
                 task_mask: Optional[Dict[str, bool]] = None,
                 name: str = 'img.png',
                 as_dict: bool = True):
    """A data sample with ``pred``/``gt`` maps given as (C, H, W) or (H, W)."""
    ds = SegDataSample()
    meta = dict(img_path=name)
    if task_mask is not None:
        meta['task_mask'] = dict(task_mask)
    ds.set_metainfo(meta)
    for task, arr in gts.items():
        spec = get_task(task)
        t = torch.as_tensor(np.asarray(arr))
        t = t[None] if t.dim() == 2 else t
        ds.set_field(PixelData(data=t.float() if spec.is_float else t.long()), spec.gt_field)
    for task, arr in preds.items():
        spec = get_task(task)
        t = torch.as_tensor(np.asarray(arr))
        t = t[None] if t.dim() == 2 else t
        ds.set_field(PixelData(data=t.long() if spec.kind == 'segmentation' else t.float()),
                     spec.pred_field)
    return ds.to_dict() if as_dict else ds


@pytest.fixture
def make_sample():
    return build_sample


def run_metric(metric, samples, batch_size=1, dataset_meta=None):
    """Feed ``samples`` in batches and evaluate (single process)."""
    if dataset_meta is not None:
        metric.dataset_meta = dataset_meta
    for i in range(0, len(samples), batch_size):
        metric.process({}, samples[i:i + batch_size])
    return metric.evaluate(len(samples))


def run_two_ranks(build, samples, dataset_meta=None):
    """Simulate 2 processes: DefaultSampler's interleaved shards (with the
    last sample repeated as padding), per-rank processing, then mmengine's
    collect order (interleave, drop padding) before ``compute_metrics``."""
    n = len(samples)
    total = (n + 1) // 2 * 2
    idx = list(range(n)) + list(range(total - n))
    ranks = [idx[r::2] for r in range(2)]
    parts = []
    for shard in ranks:
        m = build()
        if dataset_meta is not None:
            m.dataset_meta = dataset_meta
        m.process({}, [samples[i] for i in shard])
        parts.append(m.results)
    merged = [r for pair in zip(*parts) for r in pair][:n]
    final = build()
    if dataset_meta is not None:
        final.dataset_meta = dataset_meta
    final.results = merged
    return final.evaluate(n)


@pytest.fixture
def runner_helpers():
    return run_metric, run_two_ranks
