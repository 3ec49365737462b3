"""mmdmtl.experiments: method fragments, run plans and run configs."""
import os.path as osp

import pytest

from mmdmtl.experiments import (
    available_methods,
    build_run_cfg,
    load_method,
    resolve_methods,
    sweep_plan,
    table_plan,
)
from mmdmtl.experiments.plan import RunSpec, run_name

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_synthetic.py')


def test_every_compared_method_is_a_config_fragment():
    methods = available_methods()
    assert list(methods) == ['stl', 'mtl', 'pred', 'feat', 'no_cond', 'no_diff',
                             'pred_direct', 'feat_direct', 'pred_anchored',
                             'pred_anchored_guided', 'stagewise', 'mtl_finetune',
                             'stagewise_feat', 'stagewise_no_diff', 'stagewise_no_cond',
                             'stagewise_joint']
    assert [n for n, s in methods.items() if s.single_task] == ['stl']
    assert methods['no_cond'].head == dict(type='DiffusionMTLHead', variant='prediction',
                                           use_task_conditioning=False)
    for name, spec in methods.items():
        assert osp.basename(spec.path) == f'{name}.py'


def test_table_plan_one_single_task_model_per_task():
    stl, mtl = resolve_methods(['stl', 'mtl'])
    plan = table_plan([stl, mtl], ['semseg', 'depth'], ['onelabel', 'randomlabels'], [0, 1])
    assert len(plan) == 2 * 2 * 3
    assert plan[:3] == [RunSpec('stl', ('semseg',), 'onelabel', 0),
                        RunSpec('stl', ('depth',), 'onelabel', 0),
                        RunSpec('mtl', ('semseg', 'depth'), 'onelabel', 0)]
    assert run_name('stl', ('depth',), 'onelabel', 1) == 'onelabel/seed1/stl_depth'


def test_sweep_plan_reference_on_all_labels():
    stl, mtl, pred = resolve_methods(['stl', 'mtl', 'pred'])
    plan = sweep_plan([mtl, pred], [stl], ['semseg', 'depth'], [50, 10, 50], [0])
    assert [r.split for r in plan] == ['frac100'] * 2 + ['frac10'] * 2 + ['frac50'] * 2
    assert {r.method for r in plan if r.split == 'frac100'} == {'stl'}
    with pytest.raises(ValueError, match=r'\(0, 100\]'):
        sweep_plan([mtl], [stl], ['semseg'], [0], [0])


def test_user_method_fragment_merges_head_and_other_keys(tmp_path):
    path = tmp_path / 'ours.py'
    path.write_text("method = dict(label='Ours', order=9)\n"
                    "model = dict(decode_head=dict(type='DiffusionMTLHead', num_timesteps=3))\n"
                    "optim_wrapper = dict(optimizer=dict(lr=0.5))\n")
    spec = resolve_methods([str(path)])[0]
    assert (spec.name, spec.label, spec.default) == ('ours', 'Ours', False)
    cfg = build_run_cfg(TINY, spec, ['semseg', 'depth'], 'full', 3, 7, str(tmp_path / 'wd'))
    assert cfg.model.decode_head.num_timesteps == 3
    assert cfg.model.decode_head.type == 'DiffusionMTLHead'
    assert cfg.optim_wrapper.optimizer.lr == 0.5
    assert cfg.optim_wrapper.optimizer.type == 'AdamW'  # the rest of the base kept
    assert cfg.randomness.seed == 3 and cfg.train_cfg.max_iters == 7
    assert list(cfg.model.decode_head.tasks) == ['semseg', 'depth']


def test_mtl_fragment_drops_diffusion_arguments(tmp_path):
    cfg = build_run_cfg(TINY, 'mtl', ['semseg'], 'full', 0, 4, str(tmp_path))
    head = cfg.model.decode_head
    assert head.type == 'MTLBaselineHead' and 'num_timesteps' not in head


def test_bad_method_fragments_are_named(tmp_path):
    bad = tmp_path / 'bad.py'
    bad.write_text("model = dict(decode_head=dict(type='MTLBaselineHead'))\n")
    with pytest.raises(ValueError, match='bad.py: needs `method'):
        load_method(str(bad))
    with pytest.raises(KeyError, match="unknown method 'nope'"):
        resolve_methods(['nope'])
    with pytest.raises(FileNotFoundError, match='missing.py'):
        resolve_methods([str(tmp_path / 'missing.py')])
