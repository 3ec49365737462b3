"""What a model that learned nothing from the images would score.

A *constant* predictor fitted on the training labels: the most frequent
class for segmentation tasks, the median valid depth, the mean (normalised)
surface normal, and the positive-pixel rate as the probability of binary
tasks (edges, saliency). Its metrics, computed with the config's own test
evaluator on the test set, are the floor that "better than trivial" is
measured against (``tools/quickstart.py`` prints them beside the trained
model's).
"""
from typing import Dict, Optional, Sequence

import numpy as np
import torch
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmengine.structures import PixelData
from mmengine.utils import ProgressBar

from mmdmtl.registry import DATASETS, METRICS
from mmdmtl.structures import TASK_MASK_KEY, get_task

from .functional import depth_valid_mask


def _gt(sample, task: str) -> Optional[torch.Tensor]:
    """The labelled ground truth of ``task`` in a packed sample (or None)."""
    mask = sample.metainfo.get(TASK_MASK_KEY) or {}
    spec = get_task(task)
    if not mask.get(task, True) or spec.gt_field not in sample:
        return None
    return getattr(sample, spec.gt_field).data


def fit_constant_predictor(dataset, tasks: Sequence[str], max_samples: int = 200,
                           progress: bool = True) -> Dict[str, np.ndarray]:
    """Constants of the trivial predictor from (up to ``max_samples``
    evenly spaced) samples of ``dataset``, whose pipeline must pack the
    ground truth (e.g. the test pipeline).

    Returns:
        ``{task: value}``: class index (``semseg``/``parts``), metres
        (``depth``), unit 3-vector (``normal``), probability (``edge``/
        ``sal``).

    Raises:
        ValueError: if a task has no valid pixel in the samples used.
    """
    n = len(dataset)
    idx = np.unique(np.linspace(0, n - 1, min(n, max_samples)).round().astype(int))
    hist: Dict[str, np.ndarray] = {}
    depths: list = []
    normal_sum = np.zeros(3)
    pos = {t: [0, 0] for t in tasks}
    bar = ProgressBar(len(idx)) if progress else None
    for i in idx:
        sample = dataset[int(i)]['data_samples']
        for task in tasks:
            gt = _gt(sample, task)
            if gt is None:
                continue
            spec = get_task(task)
            if spec.kind == 'segmentation':
                v = gt[gt != spec.invalid_value].long().numpy()
                h = np.bincount(v, minlength=1)
                old = hist.get(task, np.zeros(0, dtype=np.int64))
                size = max(len(old), len(h))
                hist[task] = np.pad(old, (0, size - len(old))) + np.pad(h, (0, size - len(h)))
            elif spec.kind == 'binary':
                valid = gt != spec.invalid_value
                pos[task][0] += int((gt[valid] > 0).sum())
                pos[task][1] += int(valid.sum())
            elif spec.kind == 'depth':
                d = gt[depth_valid_mask(gt)]
                depths.append(d.numpy())
            elif spec.kind == 'normal':
                valid = gt.norm(dim=0) > 0
                normal_sum += gt[:, valid].double().sum(1).numpy()
        if bar:
            bar.update()
    out: Dict[str, np.ndarray] = {}
    for task in tasks:
        kind = get_task(task).kind
        if kind == 'segmentation' and hist.get(task) is not None and hist[task].sum():
            out[task] = np.array(int(hist[task].argmax()))
        elif kind == 'binary' and pos[task][1]:
            out[task] = np.array(pos[task][0] / pos[task][1], dtype=np.float32)
        elif kind == 'depth' and depths and sum(len(d) for d in depths):
            out[task] = np.array(np.median(np.concatenate(depths)), dtype=np.float32)
        elif kind == 'normal' and np.linalg.norm(normal_sum) > 0:
            out[task] = (normal_sum / np.linalg.norm(normal_sum)).astype(np.float32)
        else:
            raise ValueError(f'trivial baseline: no valid {task!r} ground truth in the '
                             f'{len(idx)} samples used')
    return out


def _constant_map(task: str, value: np.ndarray, shape) -> PixelData:
    h, w = shape[-2:]
    spec = get_task(task)
    if spec.kind == 'segmentation':
        data = torch.full((1, h, w), int(value), dtype=torch.long)
    elif spec.kind == 'normal':
        data = torch.as_tensor(value, dtype=torch.float32).view(3, 1, 1).expand(3, h, w)
    else:
        data = torch.full((1, h, w), float(value), dtype=torch.float32)
    return PixelData(data=data.clone())


def trivial_baseline_metrics(cfg: Config, tasks: Optional[Sequence[str]] = None,
                             max_fit_samples: int = 200,
                             progress: bool = True) -> Dict[str, float]:
    """Test-set metrics of the constant predictor fitted on the training set.

    Args:
        cfg: A full mmdmtl config (train/test dataloaders, test evaluator).
        tasks: Tasks to predict (default: ``cfg.model.decode_head.tasks``).
        max_fit_samples: Training samples used to fit the constants.
        progress: Show progress bars.

    Returns:
        The evaluator's metrics (same keys as ``tools/test.py``).
    """
    tasks = list(tasks or cfg.model.decode_head.tasks)
    test_ds_cfg = cfg.test_dataloader.dataset.copy()
    train_ds_cfg = cfg.train_dataloader.dataset.copy()
    train_ds_cfg['pipeline'] = test_ds_cfg['pipeline']  # no random transforms
    train_ds = DATASETS.build(train_ds_cfg)
    constants = fit_constant_predictor(train_ds, tasks, max_fit_samples, progress)
    test_ds = DATASETS.build(test_ds_cfg)
    ev_cfg = cfg.test_evaluator
    metrics = [METRICS.build(m) for m in (ev_cfg if isinstance(ev_cfg, list) else [ev_cfg])]
    evaluator = Evaluator(metrics)
    evaluator.dataset_meta = test_ds.metainfo
    bar = ProgressBar(len(test_ds)) if progress else None
    for i in range(len(test_ds)):
        sample = test_ds[i]['data_samples']
        ref = next((getattr(sample, get_task(t).gt_field) for t in tasks
                    if get_task(t).gt_field in sample), None)
        if ref is None:
            raise ValueError(f'trivial baseline: test sample {i} '
                             f'({sample.metainfo.get("img_path")}) has no ground truth')
        for t in tasks:
            sample.set_field(_constant_map(t, constants[t], ref.shape), get_task(t).pred_field)
        evaluator.process([sample])
        if bar:
            bar.update()
    return {k: float(v) for k, v in evaluator.evaluate(len(test_ds)).items()}
