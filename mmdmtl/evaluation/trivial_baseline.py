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
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmengine.utils import ProgressBar

from mmdmtl.registry import DATASETS, METRICS
from mmdmtl.structures import MTLDataSample, get_task


def fit_constant_predictor(dataset, tasks: Sequence[str], max_samples: int = 200,
                           progress: bool = True) -> Dict[str, np.ndarray]:
    """Constants of the trivial predictor from (up to ``max_samples``
    evenly spaced) samples of ``dataset``, whose pipeline must pack the
    ground truth (e.g. the test pipeline). Each task computes its constant
    (:meth:`~mmdmtl.tasks.BaseTask.constant_statistics` /
    :meth:`~mmdmtl.tasks.BaseTask.constant_from_statistics`).

    Returns:
        ``{task: value}``: class index (``semseg``/``parts``), metres
        (``depth``), unit 3-vector (``normal``), probability (``edge``/
        ``sal``).

    Raises:
        ValueError: if a task has no valid pixel in the samples used.
    """
    n = len(dataset)
    idx = np.unique(np.linspace(0, n - 1, min(n, max_samples)).round().astype(int))
    stats: Dict[str, list] = {t: [] for t in tasks}
    bar = ProgressBar(len(idx)) if progress else None
    for i in idx:
        sample = MTLDataSample.wrap(dataset[int(i)]['data_samples'])
        for task in tasks:
            gt = sample.labelled_gt(task)
            if gt is not None:
                stats[task].append(get_task(task).constant_statistics(gt))
        if bar:
            bar.update()
    out: Dict[str, np.ndarray] = {}
    for task in tasks:
        value = get_task(task).constant_from_statistics(stats[task])
        if value is None:
            raise ValueError(f'trivial baseline: no valid {task!r} ground truth in the '
                             f'{len(idx)} samples used')
        out[task] = value
    return out


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
        sample = MTLDataSample.wrap(sample)
        ref = next((sample.gt(t) for t in tasks if sample.has_gt(t)), None)
        if ref is None:
            raise ValueError(f'trivial baseline: test sample {i} '
                             f'({sample.metainfo.get("img_path")}) has no ground truth')
        for t in tasks:
            sample.set_pred(t, get_task(t).constant_prediction(constants[t], ref.shape))
        evaluator.process([sample])
        if bar:
            bar.update()
    return {k: float(v) for k, v in evaluator.evaluate(len(test_ds)).items()}
