"""The TASKS registry and the built-in task classes."""
import numpy as np
import pytest
import torch

from mmdmtl.registry import TASKS
from mmdmtl.structures.tasks import TASKS as TASK_VIEW
from mmdmtl.tasks import BaseTask, get_task, task_names, task_of_key


def test_builtin_tasks_in_their_order_and_the_structures_view():
    assert task_names() == ['semseg', 'parts', 'sal', 'edge', 'depth', 'normal']
    assert list(TASK_VIEW) == task_names()
    assert TASK_VIEW['depth'] is get_task('depth') is get_task('depth')
    assert TASKS.get('normal') is type(get_task('normal'))


def test_unknown_and_mismatched_tasks_are_refused_clearly():
    with pytest.raises(KeyError, match=r"Unknown task 'albedo'.*known tasks"):
        get_task('albedo')

    class Wrong(BaseTask):
        name = 'other'

    TASKS.register_module('mislabelled', module=Wrong)
    try:
        with pytest.raises(TypeError, match="registered as task 'mislabelled'"):
            get_task('mislabelled')
    finally:
        TASKS._module_dict.pop('mislabelled')


def test_each_task_owns_its_values():
    normal, depth, semseg = get_task('normal'), get_task('depth'), get_task('semseg')
    assert normal.flip_signs('horizontal') == (-1.0, 1.0, 1.0)
    assert normal.flip_signs('diagonal') == (-1.0, -1.0, 1.0)
    assert depth.flip_signs('horizontal') is None
    out = torch.ones(1, 3, 2, 2)
    assert normal.unflip_output(out, 'vertical')[0, :, 0, 0].tolist() == [1, -1, 1]
    assert torch.allclose(depth.activate(torch.zeros(1)), torch.log(torch.tensor([2.0])))
    assert semseg.to_prediction(torch.tensor([[[[0.1]], [[0.9]]]])).item() == 1
    assert normal.invalid_target((2, 3)).shape == (2, 3, 3)
    assert semseg.invalid_target((2, 3)).dtype == np.uint8
    assert get_task('sal').is_binary and not semseg.is_binary
    assert (semseg.higher_is_better, depth.higher_is_better) == (True, False)
    with pytest.raises(ValueError, match='needs 3 output'):
        normal.check_channels(1, 'head')
    with pytest.raises(ValueError, match='>= 2 classes'):
        semseg.check_channels(1, 'head')
    assert task_of_key('decode.loss_depth_init') == 'depth'
    assert task_of_key('decode.loss_x') == 'loss_x'


def test_random_targets_are_valid_packed_targets():
    g = torch.Generator().manual_seed(0)
    for name, ch in dict(semseg=5, parts=3, sal=1, edge=1, depth=1, normal=3).items():
        task = get_task(name)
        t = task.random_target(ch, (4, 6), generator=g)
        assert t.shape == (task.gt_channels, 4, 6), name
        assert t.is_floating_point() == task.is_float, name
        assert task.valid_mask(t).all(), name
