"""Every error of the issue names the file, index or key."""
import os
import os.path as osp

import numpy as np
import pytest
from dataset_writers import write_mtan, write_nyud_atrc

from mmdmtl.datasets import NYUDv2ATRCDataset, NYUDv2MTANDataset
from mmdmtl.datasets.transforms import AnnotationReadError

LOAD = [dict(type='LoadMultiTaskImage'), dict(type='LoadMultiTaskAnnotations'),
        dict(type='PackMTLInputs')]
NYU3 = ['semseg', 'depth', 'normal']


def test_unknown_task_names_the_task(tmp_path):
    root = str(tmp_path / 'nyu')
    write_mtan(root, n=2)
    with pytest.raises(KeyError, match="unknown task 'segm'"):
        NYUDv2MTANDataset(data_root=root, tasks=['segm'])
    with pytest.raises(KeyError, match="task 'parts' is not provided"):
        NYUDv2MTANDataset(data_root=root, tasks=['semseg', 'parts'])


def test_missing_target_file_names_file_and_index(tmp_path):
    root = str(tmp_path / 'nyu')
    write_mtan(root, n=3)
    os.remove(osp.join(root, 'train', 'depth', '2.npy'))
    ds = NYUDv2MTANDataset(data_root=root, tasks=NYU3, pipeline=LOAD, max_refetch=0)
    ds[0]
    with pytest.raises(AnnotationReadError, match=r'depth.*2\.npy.*sample index 2'):
        ds.prepare_data(2)


def test_unreadable_files_name_the_file(tmp_path):
    root = str(tmp_path / 'nyu')
    write_mtan(root, n=2)
    with open(osp.join(root, 'train', 'label', '1.npy'), 'wb') as f:
        f.write(b'garbage')
    with open(osp.join(root, 'train', 'image', '0.npy'), 'wb') as f:
        f.write(b'garbage')
    ds = NYUDv2MTANDataset(data_root=root, tasks=NYU3, pipeline=LOAD)
    with pytest.raises(AnnotationReadError, match=r'cannot decode image file .*0\.npy'):
        ds.prepare_data(0)
    with pytest.raises(AnnotationReadError, match=r'semseg.*1\.npy.*sample index 1'):
        ds.prepare_data(1)


def test_shape_mismatch_names_file_and_shapes(tmp_path):
    root = str(tmp_path / 'nyu')
    write_mtan(root, n=2, h=12, w=16)
    np.save(osp.join(root, 'train', 'normal', '1.npy'), np.ones((10, 16, 3), np.float32))
    ds = NYUDv2MTANDataset(data_root=root, tasks=NYU3, pipeline=LOAD)
    with pytest.raises(ValueError, match=r'normal ground-truth file .*1\.npy has shape '
                       r'\(10, 16\).*\(12, 16\).*sample index 1'):
        ds.prepare_data(1)


def test_depth_nan_inf_are_invalid_not_crashes(tmp_path):
    root = str(tmp_path / 'nyu')
    write_mtan(root, n=1, h=4, w=4)
    d = np.full((4, 4, 1), 2.0, np.float32)
    d[0, 0], d[0, 1], d[0, 2] = np.nan, np.inf, -np.inf
    np.save(osp.join(root, 'train', 'depth', '0.npy'), d)
    ds = NYUDv2MTANDataset(data_root=root, tasks=['depth'], pipeline=LOAD)
    got = ds[0]['data_samples'].gt_depth_map.data[0]
    assert got[0, :3].tolist() == [0, 0, 0] and (got[1:] == 2).all()
    # an all-invalid labelled depth map is not a label
    np.save(osp.join(root, 'train', 'depth', '0.npy'), np.full((4, 4, 1), np.nan, np.float32))
    assert ds[0]['data_samples'].task_mask == dict(depth=False)


def test_missing_folders_and_lists(tmp_path):
    with pytest.raises(FileNotFoundError, match='image folder'):
        NYUDv2MTANDataset(data_root=str(tmp_path / 'nowhere'), tasks=NYU3)
    root = str(tmp_path / 'nyu')
    write_mtan(root, n=3)
    os.remove(osp.join(root, 'train', 'image', '1.npy'))
    with pytest.raises(FileNotFoundError, match=r"missing e\.g\. \['1\.npy'\]"):
        NYUDv2MTANDataset(data_root=root, tasks=NYU3)
    atrc = str(tmp_path / 'atrc')
    write_nyud_atrc(atrc, ['a'], 'train')
    with pytest.raises(FileNotFoundError, match=r'gt_sets.val\.txt'):
        NYUDv2ATRCDataset(data_root=atrc, subset='val')


def test_split_task_count_mismatch(tmp_path):
    import torch
    root = str(tmp_path / 'nyu')
    write_mtan(root, n=3)
    path = str(tmp_path / 'cs.pth')
    torch.save({'labels_weights': torch.ones(3, 2)}, path)  # semseg / depth only
    with pytest.raises(KeyError, match=r"cs\.pth has no column for task 'normal'"):
        NYUDv2MTANDataset(data_root=root, tasks=NYU3, split_file=path)
    ds = NYUDv2MTANDataset(data_root=root, tasks=['semseg', 'depth'], split_file=path)
    assert ds.task_mask_array().all()
