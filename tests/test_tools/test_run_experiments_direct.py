"""run_experiments: the paper's direct refinement as separate methods."""
import pytest

from mmdmtl import experiments as re_tool


@pytest.mark.parametrize('method, variant', [('pred_direct', 'prediction'),
                                             ('feat_direct', 'feature')])
def test_direct_methods_force_the_paper_refinement(method, variant):
    over = re_tool.head_overrides(method)
    assert over == dict(type='DiffusionMTLHead', refine_mode='direct', variant=variant)
    assert method in re_tool.METHODS and method not in re_tool.DEFAULT_METHODS


def test_default_methods_keep_the_config_refinement():
    from mmengine.config import Config

    from mmdmtl.utils.config_utils import set_head_type
    cfg = Config.fromfile(re_tool.DEFAULT_CONFIG)
    assert cfg.model.decode_head.refine_mode == 'residual'
    for method in ('pred', 'feat', 'no_cond', 'no_diff'):
        head = set_head_type(cfg, re_tool.head_overrides(method)).model.decode_head
        assert head.refine_mode == 'residual', method
    head = set_head_type(cfg, re_tool.head_overrides('pred_direct')).model.decode_head
    assert head.refine_mode == 'direct'
    base = set_head_type(cfg, re_tool.head_overrides('mtl')).model.decode_head
    assert 'refine_mode' not in base and base.pred_head_init == 'default'
