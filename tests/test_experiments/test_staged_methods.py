"""Staged methods of the experiment runner (``start_from``): a run that
continues the same seed's run of another method, e.g. the stage-wise
refinement on top of a trained MTL baseline and its fine-tuning control."""
import os
import os.path as osp

import pytest
import torch

from mmdmtl.experiments import (
    ExperimentSettings,
    ProtocolSettings,
    available_methods,
    build_run_cfg,
    load_method,
    plan_stages,
    prepare_run,
    resolve_with_parents,
    scaled_lr,
    start_checkpoint,
    table_plan,
    with_parents,
)
from mmdmtl.experiments.plan import RunSpec

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_synthetic.py')


def _fragment(tmp_path, name, method, head="type='MTLBaselineHead'"):
    path = tmp_path / f'{name}.py'
    path.write_text(f'method = dict({method})\nmodel = dict(decode_head=dict({head}))\n')
    return str(path)


def test_bundled_staged_methods_start_from_the_mtl_baseline():
    methods = available_methods()
    sw, ft = methods['stagewise'], methods['mtl_finetune']
    assert (sw.start_from, sw.iters_scale, ft.start_from, ft.iters_scale) == \
        ('mtl', 0.5, 'mtl', 0.5)
    assert sw.head['freeze_initial'] is True and sw.head['refine_mode'] == 'anchored'
    assert ft.head == dict(type='MTLBaselineHead')
    for spec in (sw, ft):
        assert spec.cfg_options == {'model.backbone.frozen_stages': 4,
                                    'model.backbone.norm_eval': True}
        assert not spec.default
    assert sw.run_iters(1000) == 500 and sw.run_iters(1) == 1
    staged = ('stagewise', 'mtl_finetune', 'stagewise_feat', 'stagewise_no_diff',
              'stagewise_no_cond', 'stagewise_joint')
    assert all(s.start_from is None for n, s in methods.items() if n not in staged)


def test_stagewise_variants_and_ablations_change_only_their_head_settings(tmp_path):
    """The feature variant, the two ablations and the fine-tuned-first-stage
    variant of ``stagewise`` are the same staged method with only their head
    settings changed, and their run configs differ from stagewise's in those
    settings alone."""
    methods = available_methods()
    base = methods['stagewise']
    ref = build_run_cfg(TINY, 'stagewise', ['semseg', 'depth'], 'onelabel', 0, 10, 'w',
                        split_dir=str(tmp_path)).to_dict()
    for name, change in (('stagewise_feat', dict(variant='feature')),
                         ('stagewise_no_diff', dict(use_diffusion=False)),
                         ('stagewise_no_cond', dict(use_task_conditioning=False)),
                         ('stagewise_joint', dict(freeze_initial=False,
                                                  initial_loss_weight=1.0))):
        spec = methods[name]
        assert spec.head == dict(base.head, **change), name
        assert (spec.start_from, spec.iters_scale, spec.cfg_options, spec.default) == \
            (base.start_from, base.iters_scale, base.cfg_options, False), name
        cfg = build_run_cfg(TINY, name, ['semseg', 'depth'], 'onelabel', 0, 10, 'w',
                            split_dir=str(tmp_path)).to_dict()
        head, ref_head = cfg['model'].pop('decode_head'), ref['model']['decode_head']
        assert cfg['model'] == {k: v for k, v in ref['model'].items() if k != 'decode_head'} and \
            {k: v for k, v in cfg.items() if k != 'model'} == \
            {k: v for k, v in ref.items() if k != 'model'}, name
        assert {k for k in set(head) | set(ref_head) if head.get(k) != ref_head.get(k)} == \
            set(change), name
        assert all(head[k] == v for k, v in change.items()), name


def test_parents_are_added_before_their_first_dependant_and_staged_later():
    methods = resolve_with_parents(['stl', 'stagewise', 'mtl_finetune'])
    assert set(methods) == {'stl', 'stagewise', 'mtl_finetune', 'mtl'}
    specs = with_parents([methods['stl'], methods['stagewise'], methods['mtl_finetune']],
                         methods)
    assert [s.name for s in specs] == ['stl', 'mtl', 'stagewise', 'mtl_finetune']
    plan = table_plan(specs, ['semseg', 'depth'], ['onelabel'], [0, 1])
    stages = plan_stages(plan, methods)
    assert [sorted({r.method for r in st}) for st in stages] == [
        ['mtl', 'stl'], ['mtl_finetune', 'stagewise']]
    assert sum(len(st) for st in stages) == len(plan) == 2 * 5


def test_bad_staged_fragments_are_named(tmp_path):
    with pytest.raises(ValueError, match=r'a.py: `iters_scale` must be a number > 0'):
        load_method(_fragment(tmp_path, 'a', "label='A', start_from='mtl', iters_scale=0"))
    with pytest.raises(ValueError, match=r'b.py: `iters_scale` is only for a staged'):
        load_method(_fragment(tmp_path, 'b', "label='B', iters_scale=0.5"))
    with pytest.raises(ValueError, match=r'c.py: `start_from` must be a method name'):
        load_method(_fragment(tmp_path, 'c', "label='C', start_from=3"))
    with pytest.raises(KeyError, match=r"d.py.*`start_from='nope'` is not a bundled"):
        resolve_with_parents([_fragment(tmp_path, 'd', "label='D', start_from='nope'")])
    # a single-task method cannot continue a multi-task run
    e = load_method(_fragment(tmp_path, 'e', "label='E', single_task=True, start_from='mtl'"))
    methods = dict(resolve_with_parents(['mtl']), e=e)
    with pytest.raises(ValueError, match=r"'e' .* starts from 'mtl', which is not single"):
        with_parents([e], methods)
    # cycles are refused, naming the chain
    x = load_method(_fragment(tmp_path, 'x', "label='X', start_from='y'"))
    y = load_method(_fragment(tmp_path, 'y', "label='Y', start_from='x'"))
    with pytest.raises(ValueError, match='cycle: x -> y -> x'):
        with_parents([x], {'x': x, 'y': y})


def _settings(tmp_path, protocol=None, iters=40):
    return ExperimentSettings(
        config=TINY, work_dir=str(tmp_path / 'work'), iters=iters,
        all_tasks=['semseg', 'depth'], protocol=protocol,
        methods=resolve_with_parents(['stl', 'stagewise', 'mtl_finetune']))


def _touch(path):
    os.makedirs(osp.dirname(path), exist_ok=True)
    torch.save({'state_dict': {}}, path)


def test_start_checkpoint_prefers_the_best_then_the_last_iteration(tmp_path):
    settings = _settings(tmp_path)
    run = RunSpec('stagewise', ('semseg', 'depth'), 'onelabel', 1)
    parent = osp.join(settings.work_dir, 'onelabel', 'seed1', 'mtl')
    with pytest.raises(FileNotFoundError, match=r"starts from the 'mtl' run in .*seed1/mtl"):
        start_checkpoint(settings, run)
    for it in (9, 10, 2):
        _touch(osp.join(parent, f'iter_{it}.pth'))
    assert start_checkpoint(settings, run) == osp.join(parent, 'iter_10.pth')  # numeric
    _touch(osp.join(parent, 'best_mtl_delta_m_iter_9.pth'))
    assert start_checkpoint(settings, run) == osp.join(parent, 'best_mtl_delta_m_iter_9.pth')
    _touch(osp.join(parent, 'best_mtl_delta_m_iter_2.pth'))
    with pytest.raises(ValueError, match='several best checkpoints'):
        start_checkpoint(settings, run)


def test_staged_run_config_under_the_protocol(tmp_path):
    settings = _settings(tmp_path, ProtocolSettings(pretrained='bb.pth', val_evals=4),
                         iters=1000)
    run = RunSpec('stagewise', ('semseg', 'depth'), 'onelabel', 0)
    with pytest.raises(FileNotFoundError, match='no checkpoint'):
        prepare_run(settings, run)  # the MTL baseline has not run yet
    best = osp.join(settings.work_dir, 'onelabel', 'seed0', 'mtl',
                    'best_mtl_delta_m_iter_800.pth')
    _touch(best)
    from mmengine.config import Config
    _, cfg_path, _ = prepare_run(settings, run)
    cfg = Config.fromfile(cfg_path)
    assert cfg.load_from == osp.abspath(best)
    assert cfg.train_cfg.max_iters == 500 and cfg.param_scheduler[0].end == 500
    assert cfg.train_cfg.val_interval == 125
    # the learning rate of the 1000-iteration runs, not of a 500-iteration one
    assert cfg.optim_wrapper.optimizer.lr == pytest.approx(scaled_lr(1000))
    assert scaled_lr(500) != pytest.approx(scaled_lr(1000))
    assert cfg.model.backbone.frozen_stages == 4 and cfg.model.backbone.norm_eval
    head = cfg.model.decode_head
    assert head.type == 'DiffusionMTLHead' and head.freeze_initial
    assert [d['type'] for d in head.refine_loss_decode['semseg']] == [
        'MTLCrossEntropyLoss', 'MTLLovaszLoss']
    _, ft_path, _ = prepare_run(settings, run._replace(method='mtl_finetune'))
    ft = Config.fromfile(ft_path)
    assert ft.load_from == osp.abspath(best) and ft.model.decode_head.type == 'MTLBaselineHead'
    assert 'freeze_initial' not in ft.model.decode_head
    # the full-length runs are untouched by the staging
    _, mtl_path, _ = prepare_run(settings, run._replace(method='mtl'))
    mtl = Config.fromfile(mtl_path)
    assert mtl.load_from is None and mtl.train_cfg.max_iters == 1000
    assert mtl.optim_wrapper.optimizer.lr == pytest.approx(scaled_lr(1000))
