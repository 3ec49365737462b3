"""A task defined only in this file runs end to end without touching mmdmtl.

``heat`` is a toy 1-channel regression task (a signed horizontal heat flux,
so a horizontal flip negates it) with its own file format (a text table of
numbers, NaN = no measurement), invalid value, flip, activation, loss,
metric, trivial constant and drawing. It is registered here, then used by a
dataset, the pipeline, both heads, the metric with Δm and the visualiser.
"""
import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmengine.evaluator import Evaluator
from mmengine.registry import init_default_scope
from torch import nn

import mmdmtl  # noqa: F401  (registers the modules)
from mmdmtl.datasets import BaseMultiTaskDataset
from mmdmtl.datasets.partial_labels import PUBLISHED_TASK_NAMES
from mmdmtl.evaluation.functional import HEADLINE_METRICS, metric_higher_is_better
from mmdmtl.evaluation.metrics.base_task_metric import BaseTaskMetric
from mmdmtl.evaluation.trivial_baseline import fit_constant_predictor
from mmdmtl.models.losses import DEFAULT_TASK_LOSSES
from mmdmtl.registry import DATASETS, METRICS, MODELS, TASKS, VISUALIZERS
from mmdmtl.structures import MTLDataSample
from mmdmtl.tasks import BaseTask, get_task, task_names
from mmdmtl.utils.config_utils import METRIC_TASK

H, W = 32, 48
INVALID = -99.0


class HeatTask(BaseTask):
    """Toy task: heat flux along x, in [-5, 5]; ``.txt`` tables, NaN = none."""

    name = 'heat'
    kind = 'regression'
    invalid_value = INVALID
    is_float = True
    headline_metric = 'mae'
    metric_directions = {'mae': False}
    default_loss = dict(type='HeatL1Loss', loss_weight=2.0)
    default_metric = dict(type='HeatMAEMetric')
    published_names = ('heat', 'heat_flux')
    unit = 'W'

    def load(self, path, results, backend_args=None, scale=1.0, **options):
        arr = np.loadtxt(path, dtype=np.float32, ndmin=2) * np.float32(scale)
        return np.where(np.isfinite(arr), arr, self.invalid_value).astype(np.float32)

    def flip_signs(self, direction):
        return (-1.0, ) if direction in ('horizontal', 'diagonal') else None

    def flip_target(self, target, direction):
        flipped = super().flip_target(target, direction)
        return np.where(target == self.invalid_value, self.invalid_value, flipped)

    def activate(self, raw):
        return 5.0 * torch.tanh(raw)

    def constant_statistics(self, gt):
        v = gt[gt != self.invalid_value]
        return float(v.sum()), int(v.numel())

    def constant_from_statistics(self, stats):
        n = sum(s[1] for s in stats)
        return np.array(sum(s[0] for s in stats) / n, np.float32) if n else None

    def value_range(self, gt, pred):
        return (-5.0, 5.0)

    def draw(self, visualizer, data, image, vrange=None):
        return visualizer.draw_colour_map(data, vrange or (-5.0, 5.0),
                                          invalid=data == self.invalid_value)


class HeatL1Loss(nn.Module):
    """Per-sample mean absolute error over valid pixels."""

    def __init__(self, loss_weight=1.0):
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, pred, target):
        valid = (target != INVALID).float()
        err = (pred - torch.where(target != INVALID, target, pred.detach())).abs() * valid
        return self.loss_weight * err.flatten(1).sum(1) / valid.flatten(1).sum(1).clamp(min=1)


class HeatMAEMetric(BaseTaskMetric):
    """Mean absolute error of the valid pixels, pooled over the set."""

    metric_names = ('mae', )

    def __init__(self, task='heat', **kwargs):
        super().__init__(task, **kwargs)

    def sample_statistics(self, pred, gt, sample):
        valid = gt != INVALID
        return float((pred - gt).abs()[valid].sum()), int(valid.sum())

    def summarize(self, results):
        return {'mae': sum(r[0] for r in results) / max(1, sum(r[1] for r in results))}


class ToyHeatDataset(BaseMultiTaskDataset):
    """Images with semantic labels and heat tables."""

    METAINFO = dict(classes=('floor', 'wall', 'lamp'), palette=[[0, 0, 0], [0, 128, 0],
                                                                [255, 200, 0]],
                    tasks=('semseg', 'heat'), task_channels=dict(semseg=3, heat=1))
    IMG_DIR = 'img'
    TASK_DIRS = dict(semseg=('seg', '.png'), heat=('heat', '.txt'))

    def list_sample_ids(self):
        return ['a', 'b', 'c']


@pytest.fixture(scope='module', autouse=True)
def registered():
    """Register the toy modules for this file only."""
    init_default_scope('mmseg')
    TASKS.register_module('heat', module=HeatTask)
    MODELS.register_module(module=HeatL1Loss)
    METRICS.register_module(module=HeatMAEMetric)
    DATASETS.register_module(module=ToyHeatDataset)
    yield
    TASKS._module_dict.pop('heat')
    MODELS._module_dict.pop('HeatL1Loss')
    METRICS._module_dict.pop('HeatMAEMetric')
    DATASETS._module_dict.pop('ToyHeatDataset')


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    """Three images with labels and heat tables (NaN = no measurement)."""
    import cv2
    root = tmp_path_factory.mktemp('toy_heat')
    rng = np.random.RandomState(0)
    for d in ('img', 'seg', 'heat'):
        (root / d).mkdir()
    for sid in 'abc':
        cv2.imwrite(str(root / 'img' / f'{sid}.png'), rng.randint(0, 255, (H, W, 3), np.uint8))
        seg = rng.randint(0, 3, (H, W)).astype(np.uint8)
        seg[:4] = 255
        cv2.imwrite(str(root / 'seg' / f'{sid}.png'), seg)
        heat = np.round(rng.uniform(-2, 2, (H, W)), 3)
        heat[:, :5] = np.nan
        np.savetxt(root / 'heat' / f'{sid}.txt', heat, fmt='%.3f')
    return root


PIPELINE = [
    dict(type='LoadMultiTaskImage'),
    dict(type='LoadMultiTaskAnnotations', task_options=dict(heat=dict(scale=2.0))),
    dict(type='PackMTLInputs'),
]


def _dataset(root, pipeline=PIPELINE):
    return DATASETS.build(dict(type='ToyHeatDataset', data_root=str(root),
                               tasks=['semseg', 'heat'], pipeline=pipeline))


def _model(head_type):
    head = dict(type=head_type, in_channels=[64, 128, 256, 512], tasks=dict(semseg=3, heat=1),
                preset='lite', embed_dims=16)
    if head_type == 'DiffusionMTLHead':
        head.update(head_channels=16, num_heads=2, test_noise='none')
    return MODELS.build(dict(
        type='MultiTaskEncoderDecoder',
        data_preprocessor=dict(type='MTLDataPreProcessor', mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375], bgr_to_rgb=True, size=(H, W)),
        backbone=dict(type='ResNetV1c', depth=18, out_indices=(0, 1, 2, 3),
                      norm_cfg=dict(type='BN'), init_cfg=None),
        decode_head=head, train_cfg=dict(), test_cfg=dict(mode='whole')))


def test_task_tables_follow_the_registered_task():
    task = get_task('heat')
    assert isinstance(task, HeatTask) and 'heat' in task_names()
    assert (task.results_key, task.gt_field, task.pred_field, task.path_key) == (
        'gt_heat_map', 'gt_heat_map', 'pred_heat_map', 'heat_map_path')
    assert HEADLINE_METRICS['heat'] == 'heat/mae'
    assert DEFAULT_TASK_LOSSES['heat']['type'] == 'HeatL1Loss'
    assert METRIC_TASK['HeatMAEMetric'] == 'heat'
    assert PUBLISHED_TASK_NAMES['heat_flux'] == 'heat'
    assert not metric_higher_is_better('heat/mae') and not task.higher_is_better


def test_dataset_pipeline_reads_flips_and_packs(data_root):
    ds = _dataset(data_root)
    table = np.loadtxt(data_root / 'heat' / 'a.txt', ndmin=2)
    sample = ds[0]['data_samples']
    assert isinstance(sample, MTLDataSample)
    gt = sample.gt('heat')
    assert gt.shape == (1, H, W) and gt.dtype == torch.float32
    want = np.where(np.isfinite(table), 2 * table, INVALID).astype(np.float32)
    np.testing.assert_allclose(gt[0].numpy(), want, rtol=1e-6)
    assert sample.is_labelled('heat')

    flipped = _dataset(data_root, PIPELINE[:2] + [
        dict(type='MTLRandomFlip', prob=1.0, direction='horizontal')] + PIPELINE[2:])
    fgt = flipped[0]['data_samples'].gt('heat')[0].numpy()
    mirrored = want[:, ::-1]
    np.testing.assert_allclose(fgt, np.where(mirrored == INVALID, INVALID, -mirrored))


@pytest.mark.parametrize('head_type', ['MTLBaselineHead', 'DiffusionMTLHead'])
def test_heads_train_and_predict_the_task(data_root, head_type):
    torch.manual_seed(0)
    ds = _dataset(data_root)
    model = _model(head_type)
    batch = model.data_preprocessor(pseudo_collate([ds[0], ds[1]]), True)
    losses = model.loss(batch['inputs'], batch['data_samples'])
    assert torch.isfinite(losses['decode.loss_heat']) and losses['decode.loss_heat'] > 0
    assert model.decode_head.losses['heat'].loss_weight == 2.0  # the task's default loss
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    heat_params = [p for n, p in model.decode_head.named_parameters() if 'heat' in n]
    assert heat_params and any(p.grad is not None and p.grad.abs().sum() > 0
                               for p in heat_params)

    model.eval()
    with torch.no_grad():
        preds = model.test_step(pseudo_collate([ds[2]]))
    pred = preds[0].pred('heat')
    assert pred.shape == (1, H, W)
    assert pred.abs().max() <= 5.0  # the task's activation (5 tanh)


def test_metric_delta_m_trivial_constant_and_visualiser(data_root):
    ds = _dataset(data_root)
    samples = []
    for i in range(len(ds)):
        s = ds[i]['data_samples']
        s.set_pred('heat', torch.zeros(1, H, W))
        s.set_pred('semseg', s.gt('semseg').clamp(max=2))
        samples.append(s)
    evaluator = Evaluator([dict(type='MultiTaskMetric',
                                task_metrics=[dict(type='HeatMAEMetric'),
                                              dict(type='MTLIoUMetric', task='semseg')],
                                baselines={'heat/mae': 1.0, 'semseg/mIoU': 100.0})])
    evaluator.dataset_meta = ds.metainfo
    evaluator.process(samples)
    out = evaluator.evaluate(len(samples))
    gts = np.stack([s.gt('heat').numpy() for s in samples])
    mae = np.abs(gts[gts != INVALID]).mean()
    assert out['heat/mae'] == pytest.approx(mae, rel=1e-5)
    # heat/mae: lower is better (the task says so), semseg/mIoU 100 = baseline
    assert out['mtl/delta_m'] == pytest.approx(-(mae - 1.0) / 1.0 * 100 / 2, rel=1e-4)

    const = fit_constant_predictor(ds, ['heat'], progress=False)['heat']
    assert const == pytest.approx(gts[gts != INVALID].mean(), rel=1e-4)

    vis = VISUALIZERS.build(dict(type='MTLLocalVisualizer', name='toy_heat_vis'))
    vis.dataset_meta = ds.metainfo
    image = np.zeros((H, W, 3), np.uint8)
    drawn = vis.add_datasample('a', image, samples[0])
    th = vis.title_height(H)
    assert drawn.shape == (3 * (th + H), 2 * W + vis.colorbar_width(W), 3)
    heat_pic = vis.draw_task('heat', samples[0].gt('heat'), image)
    assert heat_pic.shape == (H, W, 3)
    np.testing.assert_array_equal(drawn[2 * (th + H) + th:, :W], heat_pic)  # heat GT panel
