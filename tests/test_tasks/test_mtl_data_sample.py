"""MTLDataSample: typed accessors, packing creates it, serialisation unchanged."""
import pickle

import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmdmtl.datasets.transforms import PackMTLInputs
from mmdmtl.structures import MTLDataSample, pixel_numpy


def _packed():
    results = dict(img=np.zeros((4, 5, 3), np.uint8), gt_seg_map=np.full((4, 5), 2, np.uint8),
                   gt_depth_map=np.ones((4, 5), np.float32),
                   gt_normal_map=np.zeros((4, 5, 3), np.float32),
                   task_mask=dict(semseg=True, depth=False, normal=True), sample_idx=3)
    return PackMTLInputs()(results)['data_samples']


def test_packing_creates_an_mtl_data_sample_with_typed_accessors():
    s = _packed()
    assert isinstance(s, MTLDataSample) and isinstance(s, SegDataSample)
    assert s.gt('semseg').dtype == torch.int64 and s.gt('semseg').shape == (1, 4, 5)
    assert s.gt('normal').shape == (3, 4, 5) and s.gt('depth').dtype == torch.float32
    assert s.gt('edge') is None and not s.has_gt('edge')
    assert s.is_labelled('semseg') and not s.is_labelled('depth')
    assert s.labelled_gt('depth') is None and s.labelled_gt('semseg') is not None
    assert s.task_mask == dict(semseg=True, depth=False, normal=True)  # metainfo field
    assert s.pred('depth') is None
    s.set_pred('depth', np.full((1, 4, 5), 2.5, np.float32))
    assert s.pred_depth_map.data.shape == (1, 4, 5)  # stored in the task's field
    np.testing.assert_array_equal(s.pred_numpy('depth'), np.full((1, 4, 5), 2.5))
    assert s.gt_sem_seg is not None  # mmseg's own field name for semseg


def test_is_labelled_without_mask_and_for_tasks_the_mask_does_not_name():
    s = MTLDataSample()
    s.set_gt('depth', torch.ones(1, 2, 2))
    assert s.is_labelled('depth') and not s.is_labelled('semseg')  # no mask: gt present
    s.set_metainfo(dict(task_mask=dict(depth=True)))
    assert s.is_labelled('semseg') and not s.is_labelled('semseg', default=False)


def test_wrap_shares_fields_and_reads_the_evaluator_dict_form():
    plain = SegDataSample(metainfo=dict(task_mask=dict(depth=True), img_path='x.png'))
    plain.gt_depth_map = PixelData(data=torch.ones(1, 2, 3))
    wrapped = MTLDataSample.wrap(plain)
    assert wrapped.gt('depth') is plain.gt_depth_map.data
    assert wrapped.metainfo['img_path'] == 'x.png'
    from_dict = MTLDataSample.wrap(plain.to_dict())
    assert torch.equal(from_dict.gt('depth'), torch.ones(1, 2, 3))
    assert from_dict.is_labelled('depth') and from_dict.metainfo['img_path'] == 'x.png'
    assert MTLDataSample.wrap(wrapped) is wrapped


def test_serialisation_is_that_of_a_seg_data_sample():
    s = _packed()
    plain = SegDataSample(metainfo=s.metainfo)
    for key in s.keys():
        plain.set_field(getattr(s, key), key)
    a, b = s.to_dict(), plain.to_dict()
    assert a.keys() == b.keys()
    back = pickle.loads(pickle.dumps(s))
    assert isinstance(back, MTLDataSample)
    assert torch.equal(back.gt('semseg'), s.gt('semseg')) and back.task_mask == s.task_mask


def test_pixel_numpy():
    assert pixel_numpy(None) is None
    assert pixel_numpy(PixelData(data=torch.ones(1, 2, 2, dtype=torch.float16))).dtype == \
        np.float32
    assert pixel_numpy(torch.ones(2, dtype=torch.int64)).dtype == np.int64
    with pytest.raises(TypeError):
        MTLDataSample().set_gt('depth', 'not a tensor')
