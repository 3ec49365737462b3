"""Every configs/_base_/evaluation/*.py builds and names its Δm baselines."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmdmtl.evaluation import MultiTaskMetric
from mmdmtl.registry import METRICS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs', '_base_', 'evaluation', '*.py')))


@pytest.mark.parametrize('path', CONFIGS, ids=[osp.basename(p) for p in CONFIGS])
def test_evaluation_config_builds(path):
    init_default_scope('mmseg')
    cfg = Config.fromfile(path)
    for key in ('val_evaluator', 'test_evaluator'):
        metric = METRICS.build(cfg[key])
        assert isinstance(metric, MultiTaskMetric)
        prefixes = {m.prefix for m in metric.metrics}
        assert metric.baselines, 'save_best=mtl/delta_m needs baselines'
        assert {k.split('/')[0] for k in metric.baselines} <= prefixes


def test_paper_baselines_in_nyud_config():
    cfg = Config.fromfile(osp.join(ROOT, 'configs', '_base_', 'evaluation', 'nyud_mtan.py'))
    assert cfg.val_evaluator.baselines == {'semseg/mIoU': 45.28, 'depth/absErr': 0.4802,
                                           'normal/mean': 25.93}
