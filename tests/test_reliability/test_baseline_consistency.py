"""Δm baselines that name metrics the evaluator does not compute are refused
before training (they used to crash the first validation, e.g. stl-depth
with the base config's semseg / normal baselines merged in)."""
import pytest
from mmengine.evaluator import BaseMetric, Evaluator
from reliability_utils import build_runner, tiny_cfg

from mmdmtl.engine.consistency import TaskConfigMismatchError, check_evaluator_baselines
from mmdmtl.evaluation import MultiTaskMetric

#: What stl-depth's evaluator held: depth metric, the base's 3 baselines.
MERGED = {'semseg/mIoU': 45.28, 'depth/absErr': 0.4802, 'normal/mean': 25.93}


def test_merged_baselines_are_refused_naming_the_keys():
    metric = MultiTaskMetric([dict(type='MTLDepthMetric')], baselines=MERGED)
    with pytest.raises(TaskConfigMismatchError,
                       match=r"val_evaluator\.baselines names \['semseg/mIoU', 'normal/mean'\], "
                       r"which val_evaluator does not compute \(its metrics are "
                       r"\['depth/absErr', 'depth/rmse'.*'_delete_': True"):
        check_evaluator_baselines(Evaluator([metric]))
    # a misspelt metric name of an evaluated task is refused too
    metric = MultiTaskMetric([dict(type='MTLDepthMetric')], baselines={'depth/AbsErr': 0.48},
                             higher_is_better={'AbsErr': False})
    with pytest.raises(TaskConfigMismatchError, match=r"\['depth/AbsErr'\]"):
        check_evaluator_baselines(metric, where='test_evaluator')
    # agreeing baselines pass, nested by task as well
    check_evaluator_baselines(Evaluator([MultiTaskMetric(
        [dict(type='MTLDepthMetric'), dict(type='SurfaceNormalMetric')],
        baselines={'depth': {'absErr': 0.48, 'd1': 0.8}, 'normal/median': 20.0})]))


class _Opaque(BaseMetric):
    """A metric that does not declare its keys."""
    default_prefix = 'other'

    def process(self, data_batch, data_samples):
        pass

    def compute_metrics(self, results):
        return {'score': 1.0}


def test_keys_of_undeclared_metrics_are_not_guessed():
    metric = MultiTaskMetric([dict(type='MTLDepthMetric'), _Opaque()],
                             baselines={'depth/absErr': 0.48, 'other/score': 1.0},
                             higher_is_better={'score': True})
    check_evaluator_baselines(metric)  # other/score may exist: accepted
    metric.baselines['missing/score'] = 1.0
    with pytest.raises(TaskConfigMismatchError, match=r"\['missing/score'\]"):
        check_evaluator_baselines(metric)


def test_runner_refuses_before_training_and_testing(synthetic_root, tmp_path):
    depth_only = dict(type='MultiTaskMetric', task_metrics=[dict(type='MTLDepthMetric')],
                      baselines={'semseg/mIoU': 50.0, 'depth/absErr': 0.5})
    cfg = tiny_cfg(synthetic_root, str(tmp_path / 'a'), **{'train_cfg.max_iters': 1})
    cfg.val_evaluator = depth_only
    runner = build_runner(cfg)
    with pytest.raises(TaskConfigMismatchError,
                       match=r"val_evaluator\.baselines names \['semseg/mIoU'\]"):
        runner.train()
    assert runner.iter == 0
    cfg = tiny_cfg(synthetic_root, str(tmp_path / 'b'))
    cfg.test_evaluator = depth_only
    with pytest.raises(TaskConfigMismatchError,
                       match=r"test_evaluator\.baselines names \['semseg/mIoU'\]"):
        build_runner(cfg).test()
