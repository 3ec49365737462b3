"""Data safety (issue 17, items 3, 7, 9, 11): the synthetic generator never
deletes what it did not write and never leaves a half dataset; 16-bit and
float images keep their values; NaN pixels are reported per file;
``tools/infer.py --skip-errors``."""
import json
import multiprocessing as mp
import os
import os.path as osp
import shutil
import subprocess
import sys
import threading
import warnings

import cv2
import numpy as np
import pytest
import torch
from mmengine.dataset import Compose
from reliability_utils import ROOT

from mmdmtl.datasets import NYUDv2MTANDataset
from mmdmtl.datasets.synthetic import (
    SyntheticDataRootError,
    ensure_synthetic_dataset,
    generation_name,
    is_complete_synthetic_dataset,
)
from mmdmtl.datasets.synthetic import generate as gen_mod
from mmdmtl.datasets.transforms import (
    AnnotationReadError,
    ImageValueWarning,
    LoadMultiTaskImage,
)

P = dict(num_train=6, num_val=2, height=24, width=32, seed=3)
KW = dict(P, progress=False, num_workers=1)
CONFIG = osp.join(ROOT, 'configs', 'diffusionmtl',
                  'diffusionmtl_r18-lite_1xb8-1k_synthetic-96x128.py')
INFER = osp.join(ROOT, 'tools', 'infer.py')


def _snapshot(root):
    """{relative path: (bytes, mtime_ns)} of every file under ``root``."""
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = osp.join(dirpath, f)
            with open(p, 'rb') as fh:
                out[osp.relpath(p, root)] = (fh.read(), os.stat(p).st_mtime_ns)
    return out


def _npy_outside_partials(root):
    """``.npy`` files under ``root`` that are not in a ``.partial-*`` folder."""
    found = []
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(gen_mod.PARTIAL_PREFIX)]
        found += [osp.join(dirpath, f) for f in files if f.endswith('.npy')]
    return found


# ---------------------------------------------------------------- item 3 --

def test_folder_of_user_files_is_refused_and_untouched(tmp_path):
    user = tmp_path / 'my_nyud'
    (user / 'train' / 'image').mkdir(parents=True)
    np.save(user / 'train' / 'image' / '0.npy', np.ones((4, 4, 3), np.float32))
    (user / 'notes.txt').write_text('my annotations')
    before = _snapshot(str(user))
    with pytest.raises(SyntheticDataRootError,
                       match=rf'{user}.*not empty.*not written by the synthetic dataset '
                             rf'generator.*new or empty folder'):
        ensure_synthetic_dataset(str(user), **KW)
    # through the dataset class (what a config pointing at real data does)
    from mmdmtl.datasets import SyntheticIndoorDataset
    with pytest.raises(SyntheticDataRootError, match='my_nyud'):
        SyntheticIndoorDataset(data_root=str(user), pipeline=[], **P)
    assert _snapshot(str(user)) == before
    assert sorted(os.listdir(user)) == ['notes.txt', 'train']  # no marker, no lock


def test_generate_tool_refuses_user_folder(tmp_path, capsys):
    sys.path.insert(0, osp.join(ROOT, 'tools'))
    try:
        import generate_synthetic_dataset as tool
    finally:
        sys.path.pop(0)
    (tmp_path / 'keep.txt').write_text('x')
    with pytest.raises(SystemExit) as e:
        tool.main([str(tmp_path), '--num-train', '2', '--num-val', '1', '--no-progress'])
    assert 'keep.txt' in str(e.value.code) and str(tmp_path) in str(e.value.code)
    assert os.listdir(tmp_path) == ['keep.txt']


def test_other_parameters_keep_the_old_generation(tmp_path):
    cache = str(tmp_path / 'cache')
    old = ensure_synthetic_dataset(cache, **KW)
    # a reader of the old generation (e.g. a running training) holds it
    ds = NYUDv2MTANDataset(data_root=old, tasks=['semseg', 'depth'],
                           pipeline=[dict(type='LoadMultiTaskImage')])
    first = ds[5]['img'].copy()
    before = _snapshot(old)
    new = ensure_synthetic_dataset(cache, **dict(KW, num_train=3))
    # nothing of the old generation was deleted or rewritten; its reader goes on
    assert _snapshot(old) == before
    np.testing.assert_array_equal(ds[5]['img'], first)
    assert old == osp.join(cache, generation_name(**P))
    assert new != old and osp.dirname(new) == cache
    assert is_complete_synthetic_dataset(new, **dict(P, num_train=3))
    assert len(os.listdir(osp.join(new, 'train', 'image'))) == 3
    # a generation folder given with other parameters: the new one goes beside it
    assert ensure_synthetic_dataset(old, **dict(KW, num_train=3)) == new
    assert ensure_synthetic_dataset(old, **KW) == old


def test_pre_versioning_layout_is_used_and_kept(tmp_path):
    gen = ensure_synthetic_dataset(str(tmp_path / 'a'), **KW)
    legacy = str(tmp_path / 'legacy')  # train/ val/ meta.json directly inside
    shutil.copytree(gen, legacy)
    meta = json.load(open(osp.join(legacy, 'meta.json')))
    meta.pop('generation', None)
    json.dump(meta, open(osp.join(legacy, 'meta.json'), 'w'))
    before = _snapshot(legacy)
    assert ensure_synthetic_dataset(legacy, **KW) == legacy
    other = ensure_synthetic_dataset(legacy, **dict(KW, num_val=1))
    after = _snapshot(legacy)
    assert {k: v for k, v in after.items() if k in before} == before
    assert other == osp.join(legacy, generation_name(**dict(P, num_val=1)))


def _crashing_renderer(monkeypatch, after):
    real = gen_mod.render_scene
    calls = []

    def render(*args, **kwargs):
        calls.append(1)
        if len(calls) > after:
            raise RuntimeError('simulated crash in the renderer')
        return real(*args, **kwargs)
    monkeypatch.setattr(gen_mod, 'render_scene', render)


def test_crash_mid_generation_leaves_no_half_dataset(tmp_path, monkeypatch):
    cache = str(tmp_path / 'cache')
    _crashing_renderer(monkeypatch, after=3)
    with pytest.raises(RuntimeError, match='simulated crash'):
        ensure_synthetic_dataset(cache, **KW)
    # nothing a reader could take for a (smaller) dataset, no partial left
    assert _npy_outside_partials(cache) == []
    assert not [d for d in os.listdir(cache) if d.startswith(gen_mod.PARTIAL_PREFIX)]
    assert not osp.exists(osp.join(cache, generation_name(**P)))

    # a hard kill (no exception handler runs) leaves the partial folder ...
    monkeypatch.setattr(gen_mod, '_discard_partial', lambda path: None)
    with pytest.raises(RuntimeError, match='simulated crash'):
        ensure_synthetic_dataset(cache, **KW)
    partials = [d for d in os.listdir(cache) if d.startswith(gen_mod.PARTIAL_PREFIX)]
    assert len(partials) == 1 and _npy_outside_partials(cache) == []
    assert not is_complete_synthetic_dataset(osp.join(cache, partials[0]), **P)
    # ... which is never mistaken for the dataset and is removed by the next run
    monkeypatch.undo()
    gen = ensure_synthetic_dataset(cache, **KW)
    assert is_complete_synthetic_dataset(gen, **P)
    assert not [d for d in os.listdir(cache) if d.startswith(gen_mod.PARTIAL_PREFIX)]
    ds = NYUDv2MTANDataset(data_root=gen, tasks=['semseg'], pipeline=[])
    assert len(ds) == P['num_train']


def test_damaged_generation_is_refused_not_rewritten(tmp_path):
    gen = ensure_synthetic_dataset(str(tmp_path / 'cache'), **KW)
    os.remove(osp.join(gen, 'train', 'depth', '4.npy'))
    before = _snapshot(gen)
    with pytest.raises(SyntheticDataRootError,
                       match=r'not a complete synthetic dataset \(1 file\(s\) missing in '
                             r'train/depth, e\.g\. 4\.npy\).*Delete the folder'):
        ensure_synthetic_dataset(str(tmp_path / 'cache'), **KW)
    assert _snapshot(gen) == before


def _ensure_in_child(cache, queue):
    queue.put(ensure_synthetic_dataset(cache, **KW))


@pytest.mark.skipif('fork' not in mp.get_all_start_methods(), reason='needs fork')
def test_concurrent_first_generation_by_two_processes(tmp_path):
    cache = str(tmp_path / 'cache')
    ctx = mp.get_context('fork')
    queue = ctx.Queue()
    procs = [ctx.Process(target=_ensure_in_child, args=(cache, queue)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    results = {queue.get(timeout=5), queue.get(timeout=5)}
    assert results == {osp.join(cache, generation_name(**P))}
    assert is_complete_synthetic_dataset(results.pop(), **P)
    assert sorted(e for e in os.listdir(cache) if not e.startswith('.')) == sorted(
        [generation_name(**P), gen_mod.CACHE_MARKER])


def test_concurrent_generation_without_locks_loser_uses_winner(tmp_path, monkeypatch):
    """Where no file lock exists, both render; the first rename wins."""
    cache = str(tmp_path / 'cache')
    monkeypatch.setattr(gen_mod._DirLock, '__enter__', lambda self: self)
    barrier = threading.Barrier(2, timeout=60)
    real = gen_mod._render_generation

    def render_then_wait(*args, **kwargs):
        real(*args, **kwargs)
        barrier.wait()  # both have rendered before either renames
    monkeypatch.setattr(gen_mod, '_render_generation', render_then_wait)
    results, errors = [], []

    def run():
        try:
            results.append(ensure_synthetic_dataset(cache, **KW))
        except Exception as e:  # noqa: BLE001
            errors.append(e)
    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == [] and len(set(results)) == 1 and len(results) == 2
    assert is_complete_synthetic_dataset(results[0], **P)
    assert not [d for d in os.listdir(cache) if d.startswith(gen_mod.PARTIAL_PREFIX)]


# ---------------------------------------------------------------- item 7 --

def _png16(path, values):
    img = np.asarray(values, dtype=np.uint16)
    assert cv2.imwrite(str(path), img)
    return img


def _expected8(img16):
    return np.round(img16.astype(np.float64) * 255 / 65535).astype(np.uint8)


def test_16bit_png_is_scaled_not_clipped(tmp_path):
    rng = np.random.default_rng(0)
    img16 = _png16(tmp_path / 'deep.png',
                   rng.integers(0, 65536, (24, 32, 3)).astype(np.uint16))
    img16[0, 0] = (0, 257, 65535)
    cv2.imwrite(str(tmp_path / 'deep.png'), img16)
    # the training / test pipeline: load, then pack into the network input
    pipeline = Compose([dict(type='LoadMultiTaskImage'), dict(type='PackMTLInputs')])
    out = pipeline(dict(img_path=str(tmp_path / 'deep.png'), sample_idx=0, seg_fields=[]))
    want = _expected8(img16)
    assert want[0, 0].tolist() == [0, 1, 255]
    assert 0 < want.mean() < 255
    np.testing.assert_array_equal(out['inputs'].permute(1, 2, 0).numpy(), want)
    # grey 16-bit: repeated to 3 channels, scaled the same way
    grey = _png16(tmp_path / 'grey.png', [[0, 1000, 30000, 65535]] * 3)
    got = LoadMultiTaskImage()(dict(img_path=str(tmp_path / 'grey.png')))['img']
    np.testing.assert_array_equal(got, np.repeat(_expected8(grey)[..., None], 3, -1))


def test_float_and_signed_images_outside_their_range_are_refused(tmp_path):
    img = np.full((6, 8, 3), 200.0, np.float32)  # a float image in [0, 255]
    cv2.imwrite(str(tmp_path / 'f.tiff'), img)
    with pytest.raises(AnnotationReadError,
                       match=r'f\.tiff \(sample index 2\): float pixels in \[200, 200\] '
                             r'do not fit \[0, 1\].*float_scale=1'):
        LoadMultiTaskImage()(dict(img_path=str(tmp_path / 'f.tiff'), sample_idx=2))
    got = LoadMultiTaskImage(float_scale=1)(dict(img_path=str(tmp_path / 'f.tiff')))['img']
    assert (got == 200).all()
    np.save(tmp_path / 's.npy', np.full((6, 8, 3), -3, np.int16))
    with pytest.raises(AnnotationReadError, match=r's\.npy.*\[-3, -3\]'):
        LoadMultiTaskImage()(dict(img_path=str(tmp_path / 's.npy')))
    np.save(tmp_path / 'i.npy', np.full((6, 8, 3), 17, np.int64))  # 8-bit values
    assert (LoadMultiTaskImage()(dict(img_path=str(tmp_path / 'i.npy')))['img'] == 17).all()


@pytest.fixture(scope='module')
def inferencer():
    from mmdmtl.apis import MTLInferencer
    torch.manual_seed(0)
    return MTLInferencer(CONFIG, None, device='cpu')


def test_16bit_png_in_the_inferencer(tmp_path, inferencer):
    rng = np.random.default_rng(1)
    img16 = _png16(tmp_path / 'deep.png',
                   rng.integers(0, 65536, (40, 50, 3)).astype(np.uint16))
    cv2.imwrite(str(tmp_path / 'same8.png'), _expected8(img16))
    a, b = inferencer([str(tmp_path / 'deep.png'), str(tmp_path / 'same8.png')])
    for task in a:  # the 16-bit image gives the predictions of its 8-bit equivalent
        np.testing.assert_allclose(a[task], b[task], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(inferencer.read(str(tmp_path / 'deep.png'))['img'],
                                  _expected8(img16))
    # a uint16 array is scaled too
    np.testing.assert_array_equal(inferencer.read(img16)['img'], _expected8(img16))


# ---------------------------------------------------------------- item 9 --

def _nan_image(shape=(6, 8, 3)):
    img = np.random.default_rng(0).random(shape).astype(np.float32)
    img[1, 2, 0] = np.nan
    img[3, 3, :] = np.inf
    img[5, 7, 2] = -np.inf
    return img


@pytest.mark.parametrize('ext', ['.npy', '.tiff'])
def test_nan_pixels_are_counted_and_reported_per_file(tmp_path, ext):
    path = str(tmp_path / f'nan{ext}')
    img = _nan_image()
    np.save(path, img) if ext == '.npy' else cv2.imwrite(path, img)
    with pytest.warns(ImageValueWarning,
                      match=rf'nan\{ext} \(sample index 4\): 3 of 48 pixels are NaN or '
                            r'infinite; they are set to 0'):
        out = LoadMultiTaskImage()(dict(img_path=path, sample_idx=4))['img']
    assert out.dtype == np.uint8
    bgr = (lambda a: a[..., ::-1]) if ext == '.npy' else (lambda a: a)
    assert bgr(out)[1, 2, 0] == 0 and (out[3, 3] == 0).all() and bgr(out)[5, 7, 2] == 0
    with pytest.raises(AnnotationReadError, match=rf'nan\{ext}.*3 of 48 pixels'):
        LoadMultiTaskImage(nonfinite='error')(dict(img_path=path, sample_idx=4))


def test_nan_pixels_in_evaluation_and_inference(synthetic_root, tmp_path, inferencer):
    root = str(tmp_path / 'data')
    shutil.copytree(synthetic_root, root)
    bad = osp.join(root, 'val', 'image', '2.npy')
    img = np.load(bad)
    img[:2, :3] = np.nan
    np.save(bad, img)
    ds = NYUDv2MTANDataset(data_root=root, subset='val', test_mode=True, tasks=['semseg'],
                           pipeline=[dict(type='LoadMultiTaskImage'),
                                     dict(type='LoadMultiTaskAnnotations'),
                                     dict(type='PackMTLInputs')])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        ds[1]  # clean images: no warning
    assert not [w for w in caught if issubclass(w.category, ImageValueWarning)]
    with pytest.warns(ImageValueWarning, match=r'val/image/2\.npy \(sample index 2\): 6 of '):
        ds[2]
    with pytest.warns(ImageValueWarning, match=r'val/image/2\.npy: 6 of \d+ pixels are NaN'):
        inferencer(bad)
    with pytest.warns(ImageValueWarning, match=r'input array #0: 1 of 48 pixels'):
        arr = np.random.default_rng(0).random((6, 8, 3))
        arr[0, 0, 0] = np.nan
        inferencer(arr)


# --------------------------------------------------------------- item 11 --

@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory, inferencer):
    path = str(tmp_path_factory.mktemp('ckpt') / 'model.pth')
    torch.save({'state_dict': inferencer.model.state_dict(), 'meta': {}}, path)
    return path


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / 'imgs'
    d.mkdir()
    rng = np.random.default_rng(0)
    cv2.imwrite(str(d / 'a.png'), rng.integers(0, 255, (30, 40, 3), dtype=np.uint8))
    (d / 'b.png').write_bytes(b'not an image')
    np.save(d / 'c.npy', rng.random((30, 40, 3), dtype=np.float32))
    np.save(d / 'd.npy', np.full((30, 40, 3), 7.0, np.float32))  # out of [0, 1]
    return d


def _infer_main():
    sys.path.insert(0, osp.join(ROOT, 'tools'))
    try:
        import infer
    finally:
        sys.path.pop(0)
    return infer.main


def test_infer_strict_by_default_names_the_file(checkpoint, folder, tmp_path, capsys):
    out = tmp_path / 'out'
    with pytest.raises(SystemExit) as e:
        _infer_main()([CONFIG, checkpoint, str(folder), '--out-dir', str(out),
                       '--device', 'cpu'])
    assert e.value.code == 1
    err = capsys.readouterr().err
    assert 'b.png' in err and 'cannot decode image file' in err and '--skip-errors' in err
    assert (out / 'a_depth.npy').is_file() and not (out / 'c_depth.npy').exists()


def test_infer_skip_errors_reports_skipped_files(checkpoint, folder, tmp_path, capsys):
    out = tmp_path / 'out'
    code = _infer_main()([CONFIG, checkpoint, str(folder), '--out-dir', str(out),
                          '--device', 'cpu', '--skip-errors', '--batch-size', '2'])
    assert code == 1
    assert (out / 'a_depth.npy').is_file() and (out / 'c_overview.png').is_file()
    assert not (out / 'b_depth.npy').exists() and not (out / 'd_depth.npy').exists()
    captured = capsys.readouterr()
    assert 'wrote predictions of 2 image(s)' in captured.out
    lines = captured.err.splitlines()
    i = lines.index('skipped 2 of 4 image(s):')
    assert 'b.png: AnnotationReadError: cannot decode image file' in lines[i + 1]
    assert 'd.npy: AnnotationReadError:' in lines[i + 2] and 'float pixels' in lines[i + 2]


def test_infer_skip_errors_exit_status_of_the_script(checkpoint, folder, tmp_path):
    os.remove(folder / 'd.npy')
    r = subprocess.run([sys.executable, INFER, CONFIG, checkpoint, str(folder),
                        '--out-dir', str(tmp_path / 'out'), '--device', 'cpu',
                        '--skip-errors'], capture_output=True, text=True, timeout=300)
    assert r.returncode == 1, r.stderr[-3000:]
    assert 'skipped 1 of 3 image(s)' in r.stderr and 'b.png' in r.stderr
    os.remove(folder / 'b.png')
    r = subprocess.run([sys.executable, INFER, CONFIG, checkpoint, str(folder),
                        '--out-dir', str(tmp_path / 'out'), '--device', 'cpu',
                        '--skip-errors'], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
