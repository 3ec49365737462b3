"""Split files from a careless or hostile source (issue #17, items 1, 8, 10).

* a pickled payload in a ``.npy`` / ``.pth`` split file is refused, names the
  file, and is never executed (a marker file it would create stays absent),
  also through ``tools/train.py --cfg-options ...split_file=...``;
* label flags other than 0 / 1 (NaN, -1, 2, 0.5, strings, None) are refused
  with the file, row and task; a split that labels nothing for a task the
  dataset trains is refused with the task and file;
* unreadable files (non-UTF-8 / NaN / ragged JSON, object ``.npy``) and a
  misspelled task key name the file.
"""
import json
import os
import os.path as osp
import pickle
import shutil

import numpy as np
import pytest
import torch
from reliability_utils import TINY_CFG, TRAIN_TOOL, data_opts, run_python

from mmdmtl.datasets import NYUDv2MTANDataset
from mmdmtl.datasets.partial_labels import load_partial_split
from mmdmtl.datasets.safe_split_loading import UnsafeSplitFileError

NYU = ['semseg', 'depth', 'normal']


class _Payload:
    """Pickles as a call of ``func(*args)``: what a crafted file would run."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _payloads(marker: str):
    touch = f"open({marker!r}, 'w').close()"
    return {
        'os.system': _Payload(os.system, f'touch {marker}'),
        'builtins.exec': _Payload(exec, touch),
        'builtins.eval': _Payload(eval, touch),
    }


@pytest.fixture
def root(synthetic_root, tmp_path):
    """A private copy of the tiny synthetic data (16 training images)."""
    dst = str(tmp_path / 'data')
    shutil.copytree(synthetic_root, dst)
    return dst


@pytest.mark.parametrize('kind', ['os.system', 'builtins.exec', 'builtins.eval'])
def test_npy_payload_inside_the_published_structure_is_not_run(tmp_path, kind):
    marker = str(tmp_path / 'pwned')
    path = str(tmp_path / 'pascal_onelabel.npy')
    # the published PASCAL structure with one "image id" replaced by a payload
    obj = {'semseg': ['2008_000002', _payloads(marker)[kind]], 'sal': ['2008_000003']}
    np.save(path, np.array(obj, dtype=object), allow_pickle=True)
    with pytest.raises(UnsafeSplitFileError, match=r'refusing to load split file .*'
                       r'pascal_onelabel\.npy.*not executed'):
        load_partial_split(path)
    assert not osp.exists(marker)


def test_npy_whose_whole_payload_is_code_is_not_run(tmp_path):
    marker = str(tmp_path / 'pwned')
    path = str(tmp_path / 'split.npy')
    # a valid object-array .npy header followed by a bare payload pickle
    with open(path, 'wb') as f:
        np.lib.format.write_array_header_1_0(
            f, dict(descr='|O', fortran_order=False, shape=()))
        f.write(pickle.dumps(_payloads(marker)['os.system'], protocol=3))
    with pytest.raises(UnsafeSplitFileError, match=r'split\.npy.*posix\.system|'
                       r'split\.npy.*os\.system'):
        load_partial_split(path)
    assert not osp.exists(marker)


def test_pth_payload_is_not_run(tmp_path):
    marker = str(tmp_path / 'pwned')
    path = str(tmp_path / 'new_onelabel.pth')
    torch.save({'2008_000002': [1, 0, 0, 0, _payloads(marker)['os.system']]}, path)
    with pytest.raises(UnsafeSplitFileError, match=r'refusing to load split file .*'
                       r'new_onelabel\.pth'):
        load_partial_split(path)
    assert not osp.exists(marker)


def test_payload_through_train_tool_cfg_options(synthetic_root, tmp_path):
    marker = str(tmp_path / 'pwned')
    path = str(tmp_path / 'evil_split.npy')
    obj = {'semseg': [_payloads(marker)['os.system']]}
    np.save(path, np.array(obj, dtype=object), allow_pickle=True)
    proc = run_python(
        [TRAIN_TOOL, TINY_CFG, '--work-dir', str(tmp_path / 'work'), '--cfg-options',
         *data_opts(synthetic_root), f'train_dataloader.dataset.split_file={path}'],
        cwd=str(tmp_path), check=False, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert 'refusing to load split file' in out and 'evil_split.npy' in out, out[-3000:]
    assert not osp.exists(marker)


# ------------------------------------------------------------ label values
@pytest.mark.parametrize('bad', [float('nan'), -1.0, 2.0, 0.5])
def test_labels_weights_values_other_than_0_1_are_refused(tmp_path, bad):
    path = str(tmp_path / 'nyu.pth')
    weights = torch.eye(3).repeat(3, 1)  # 9 x 3, valid
    weights[7, 1] = bad
    torch.save({'labels_weights': weights}, path)
    with pytest.raises(ValueError, match=r"nyu\.pth: row 7, task 'depth': value .* is not 0 or 1"):
        load_partial_split(path)


@pytest.mark.parametrize('bad', ['NaN', '-1', '2', '"1"', 'null'])
def test_manifest_values_other_than_0_1_are_refused(tmp_path, bad):
    path = tmp_path / 'm.json'
    path.write_text('{"format": "mmdmtl-partial-split", "tasks": ["semseg", "depth"], '
                    f'"sample_ids": ["a", "b", "c"], "mask": [[1, 0], [0, 1], [{bad}, 1]]}}')
    with pytest.raises(ValueError, match=r"m\.json: row 2 \(image 'c'\), task 'semseg'"):
        load_partial_split(str(path))


def test_diffusionmtl_rows_with_bad_values_name_the_image(tmp_path):
    path = str(tmp_path / 'new_onelabel.pth')
    torch.save({'2008_000002': [1, 0, 0, 0, 0], '2008_000003': [0, 0, -1, 0, 1]}, path)
    with pytest.raises(ValueError, match=r"new_onelabel\.pth: row 1 \(image '2008_000003'\), "
                       r"task 'sal': value -1 is not 0 or 1"):
        load_partial_split(path)


def test_booleans_and_0_1_numbers_are_accepted(tmp_path):
    path = tmp_path / 'b.json'
    path.write_text(json.dumps(dict(tasks=['semseg', 'depth'],
                                    mask=[[True, False], [0, 1], [1.0, 0.0]])))
    split = load_partial_split(str(path))
    assert split.mask.tolist() == [[True, False], [False, True], [True, False]]
    pth = str(tmp_path / 'b.pth')
    torch.save({'labels_weights': torch.tensor([[True, False, True]])}, pth)
    assert load_partial_split(pth).mask.tolist() == [[True, False, True]]


def test_split_that_labels_nothing_is_refused(root, tmp_path):
    path = str(tmp_path / 'nothing.pth')
    torch.save({'labels_weights': torch.zeros(16, 3)}, path)
    with pytest.raises(ValueError, match=r"nothing\.pth labels no training image for task\(s\) "
                       r"\['semseg', 'depth', 'normal'\]"):
        NYUDv2MTANDataset(data_root=root, tasks=NYU, split_file=path)


def test_split_that_labels_nothing_for_one_task_is_refused(root, tmp_path):
    path = str(tmp_path / 'no_depth.pth')
    weights = torch.zeros(16, 3)
    weights[::2, 0] = 1
    weights[1::2, 2] = 1
    torch.save({'labels_weights': weights}, path)
    with pytest.raises(ValueError, match=r"no_depth\.pth labels no training image for "
                       r"task\(s\) \['depth'\]"):
        NYUDv2MTANDataset(data_root=root, tasks=NYU, split_file=path)
    # a model that does not train depth may use it
    ds = NYUDv2MTANDataset(data_root=root, tasks=['semseg', 'normal'], split_file=path)
    assert ds.task_mask_array().sum(0).tolist() == [8, 8]
    # validation ignores the split
    val = NYUDv2MTANDataset(data_root=root, tasks=NYU, split_file=path, test_mode=True)
    assert val.task_mask_array().all()


# ------------------------------------------------------ errors name the file
def test_non_utf8_json_names_the_file(tmp_path):
    path = tmp_path / 'latin.json'
    path.write_bytes(b'{"tasks": ["semseg"], "mask": [[1]], "note": "caf\xe9"}')
    with pytest.raises(ValueError, match=r'cannot read partial-label split file .*latin\.json'):
        load_partial_split(str(path))


def test_ragged_json_names_the_file_and_row(tmp_path):
    path = tmp_path / 'ragged.json'
    path.write_text('{"tasks": ["semseg", "depth"], "mask": [[1, 0], [0, 1], [1]]}')
    with pytest.raises(ValueError, match=r'ragged\.json: row 2 has 1 entries; every row must '
                       r'hold 2 label flags'):
        load_partial_split(str(path))


def test_object_npy_names_the_file_and_row(tmp_path):
    path = str(tmp_path / 'obj.npy')
    np.save(path, np.array([[1, 0, 0], [0, None, 1]], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match=r"obj\.npy: row 1, task 'depth': value None is not "
                       'a number'):
        load_partial_split(path)


def test_misspelled_task_key_names_the_task_and_file(tmp_path):
    path = tmp_path / 'tasks.json'
    path.write_text(json.dumps({'semsge': ['a', 'b'], 'depth': ['c']}))
    with pytest.raises(KeyError, match=r"unknown task 'semsge' \(did you mean 'semseg'\?\) in "
                       r"split file .*tasks\.json; known tasks are \[.*'semseg'"):
        load_partial_split(str(path))


def test_npz_and_garbage_npy_name_the_file(tmp_path):
    npz = str(tmp_path / 'archive.npy')
    with open(npz, 'wb') as f:
        np.savez(f, a=np.ones((2, 3)))
    with pytest.raises(ValueError, match=r'archive\.npy'):
        load_partial_split(npz)
    junk = tmp_path / 'junk.npy'
    junk.write_bytes(b'\x80\x03}q\x00.')  # a bare pickle, not a .npy file
    with pytest.raises(ValueError, match=r'junk\.npy'):
        load_partial_split(str(junk))
