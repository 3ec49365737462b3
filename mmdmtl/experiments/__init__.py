"""Experiment runner behind ``tools/run_experiments.py``: the Table 3 replica,
the label-efficiency sweep and the pretrained benchmark protocol.

* :mod:`.methods`      compared methods, one config fragment each
  (``configs/_base_/experiments/methods/*.py``);
* :mod:`.plan`         runs, label settings, split files and run configs;
* :mod:`.worker`       one run in its own process; many at a time;
* :mod:`.aggregation`  Δm and mean ± std over seeds (pandas);
* :mod:`.reporting`    markdown, JSON and plots (incl. learning curves);
* :mod:`.protocol`     shared pretrained backbone, paper-like schedule,
  validation/test splits;
* :mod:`.pipeline`     the two experiments end to end.
"""
import os.path as osp

from .aggregation import delta_m, headline, runs_frame, summarise
from .methods import (
                      DEFAULT_METHODS,
                      METHODS,
                      MethodSpec,
                      available_methods,
                      configs_root,
                      head_overrides,
                      load_method,
                      methods_dir,
                      resolve_methods,
                      resolve_with_parents,
)
from .pipeline import run_sweep, run_table
from .plan import (
                      ExperimentSettings,
                      RunSpec,
                      build_run_cfg,
                      canonical_split,
                      fraction_split,
                      label_fraction,
                      label_percent,
                      plan_stages,
                      prepare_run,
                      run_name,
                      split_file_for,
                      start_checkpoint,
                      sweep_plan,
                      table_plan,
                      with_parents,
)
from .protocol import ProtocolSettings, extract_backbone, pretrain_backbone, scaled_lr
from .reporting import fmt_mean_std
from .worker import execute_runs, worker

#: the quick-start config, the default base of the experiments
DEFAULT_CONFIG = osp.join(configs_root(), 'diffusionmtl',
                          'diffusionmtl_r18-lite_1xb8-1k_synthetic-96x128.py')

__all__ = [
    'DEFAULT_CONFIG', 'DEFAULT_METHODS', 'METHODS', 'MethodSpec', 'available_methods',
    'configs_root', 'head_overrides', 'load_method', 'methods_dir', 'resolve_methods',
    'resolve_with_parents', 'delta_m', 'headline', 'runs_frame', 'summarise', 'run_sweep',
    'run_table',
    'ExperimentSettings', 'RunSpec', 'build_run_cfg', 'canonical_split', 'fraction_split',
    'label_fraction', 'label_percent',
    'plan_stages', 'prepare_run', 'run_name', 'split_file_for', 'start_checkpoint',
    'sweep_plan', 'table_plan', 'with_parents',
    'ProtocolSettings', 'extract_backbone', 'pretrain_backbone', 'scaled_lr',
    'fmt_mean_std', 'execute_runs', 'worker'
]
