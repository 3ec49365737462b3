"""Single-image inference API and CLI."""
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'diffusionmtl',
                  'diffusionmtl_r18-lite_1xb8-1k_synthetic-96x128.py')


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import mmdmtl  # noqa: F401
    from mmdmtl.registry import MODELS
    cfg = Config.fromfile(CONFIG)
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    path = str(tmp_path_factory.mktemp('ckpt') / 'model.pth')
    torch.save({'state_dict': model.state_dict(),
                'meta': {'dataset_meta': {'classes': [f'c{i}' for i in range(10)]}}}, path)
    return path


@pytest.fixture(scope='module')
def images(tmp_path_factory):
    d = tmp_path_factory.mktemp('imgs')
    rng = np.random.default_rng(0)
    cv2.imwrite(str(d / 'a.png'), rng.integers(0, 255, (50, 70, 3), dtype=np.uint8))
    np.save(str(d / 'b.npy'), rng.random((96, 128, 3), dtype=np.float32))
    return d


def test_inferencer_outputs_at_original_size(checkpoint, images):
    from mmdmtl.apis import MTLInferencer
    inf = MTLInferencer(CONFIG, checkpoint, device='cpu')
    a, b = inf([str(images / 'a.png'), str(images / 'b.npy')])
    assert a['semseg'].shape == (50, 70) and a['semseg'].dtype == np.int64
    assert b['semseg'].shape == (96, 128)
    assert a['depth'].shape == (50, 70) and (a['depth'] > 0).all()
    assert a['normal'].shape == (50, 70, 3)
    np.testing.assert_allclose(np.linalg.norm(a['normal'], axis=2), 1.0, atol=1e-4)
    assert a['edge'].min() >= 0 and a['edge'].max() <= 1
    assert 0 <= a['semseg'].min() and a['semseg'].max() < 10
    # deterministic by default
    again = inf(str(images / 'a.png'))[0]
    np.testing.assert_array_equal(again['depth'], a['depth'])
    # arrays work too (BGR uint8)
    arr = cv2.imread(str(images / 'a.png'))
    np.testing.assert_allclose(inf(arr)[0]['depth'], a['depth'], rtol=1e-5)


def test_save_writes_arrays_and_pictures(checkpoint, images, tmp_path):
    from mmdmtl.apis import MTLInferencer
    inf = MTLInferencer(CONFIG, checkpoint, device='cpu')
    result = inf(str(images / 'a.png'))[0]
    files = inf.save(result, str(tmp_path), 'a', image=cv2.imread(str(images / 'a.png')))
    names = {osp.basename(f) for f in files}
    for t in ('semseg', 'depth', 'normal', 'edge'):
        assert f'a_{t}.npy' in names and f'a_{t}.png' in names
        np.testing.assert_array_equal(np.load(tmp_path / f'a_{t}.npy'), result[t])
    overview = cv2.imread(str(tmp_path / 'a_overview.png'))
    assert overview is not None and overview.shape[0] > 50


def test_checkpoint_of_another_model_is_rejected(tmp_path):
    from mmdmtl.apis import MTLInferencer
    bad = str(tmp_path / 'other.pth')
    torch.save({'state_dict': {'fc.weight': torch.ones(2, 2)}}, bad)
    with pytest.raises(RuntimeError, match='does not match'):
        MTLInferencer(CONFIG, bad, device='cpu')


def test_cli_on_folder_and_bad_file(checkpoint, images, tmp_path):
    out = tmp_path / 'out'
    r = subprocess.run([sys.executable, osp.join(ROOT, 'tools', 'infer.py'), CONFIG,
                        checkpoint, str(images), '--out-dir', str(out)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert (out / 'a_overview.png').is_file() and (out / 'b_depth.npy').is_file()
    broken = tmp_path / 'broken.png'
    broken.write_bytes(b'not an image')
    r = subprocess.run([sys.executable, osp.join(ROOT, 'tools', 'infer.py'), CONFIG,
                        checkpoint, str(broken), '--out-dir', str(out)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode != 0 and 'broken.png' in r.stderr
