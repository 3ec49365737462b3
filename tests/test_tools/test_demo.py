"""demo/: the image demo on a checkpoint, and the tutorial notebook executed
end to end (nbclient) so that it cannot rot."""
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LITE = osp.join(ROOT, 'configs', 'diffusionmtl',
                'diffusionmtl_r18-lite_1xb8-1k_synthetic-96x128.py')


@pytest.mark.slow
def test_tutorial_notebook_executes(tmp_path):
    nbformat = pytest.importorskip('nbformat', reason='nbformat is in requirements/tests.txt')
    from nbclient import NotebookClient
    nb = nbformat.read(osp.join(ROOT, 'demo', 'MMDMTL_Tutorial.ipynb'), as_version=4)
    env = dict(MMDMTL_TUTORIAL_ITERS='6', MMDMTL_TUTORIAL_NUM_TRAIN='16',
               MMDMTL_TUTORIAL_WORKDIR=str(tmp_path / 'work'),
               MMDMTL_TUTORIAL_DATA=str(tmp_path / 'data'))
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        NotebookClient(nb, timeout=600, kernel_name='python3',
                       resources={'metadata': {'path': osp.join(ROOT, 'demo')}}).execute()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    outputs = [o for c in nb.cells if c.cell_type == 'code' for o in c.get('outputs', [])]
    assert not [o for o in outputs if o.output_type == 'error']
    text = ''.join(o.get('text', '') for o in outputs if o.output_type == 'stream')
    # one-label split: every training image labelled for exactly one task
    assert 'labels per image: [1]' in text
    for key in ('semseg/mIoU', 'depth/', 'normal/', 'edge/'):
        assert key in text
    assert "tasks drawn: ['semseg', 'depth', 'normal', 'edge']" in text or \
        'tasks drawn:' in text and all(t in text for t in ('semseg', 'depth', 'normal', 'edge'))
    assert any(o.output_type == 'display_data' and 'image/png' in o.get('data', {})
               for o in outputs)
    assert (tmp_path / 'work' / 'iter_6.pth').is_file()


def _tiny_checkpoint(tmp_path) -> str:
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import mmdmtl  # noqa: F401
    from mmdmtl.registry import MODELS
    cfg = Config.fromfile(LITE)
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    path = str(tmp_path / 'model.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    return path


def test_image_demo_writes_overview(tmp_path):
    ckpt = _tiny_checkpoint(tmp_path)
    img = np.random.default_rng(0).integers(0, 255, (60, 80, 3), dtype=np.uint8)
    src = str(tmp_path / 'img.png')
    cv2.imwrite(src, img)
    out = str(tmp_path / 'out' / 'result.png')
    r = subprocess.run([sys.executable, osp.join(ROOT, 'demo', 'image_demo.py'), src, LITE, ckpt,
                        '--out-file', out, '--device', 'cpu'], capture_output=True, text=True,
                       timeout=600, env=dict(os.environ, PYTHONPATH=ROOT))
    assert r.returncode == 0, r.stderr[-3000:]
    pic = cv2.imread(out)
    assert pic is not None
    # the image plus one prediction panel per task (4 tasks), each 60 px + title high
    assert pic.shape[0] >= 5 * 60
    assert 'semseg, depth, normal, edge predicted' in r.stdout
    r = subprocess.run([sys.executable, osp.join(ROOT, 'demo', 'image_demo.py'),
                        str(tmp_path / 'missing.png'), LITE, ckpt], capture_output=True,
                       text=True, timeout=600, env=dict(os.environ, PYTHONPATH=ROOT))
    assert r.returncode != 0 and 'image file' in r.stderr and 'missing.png' in r.stderr
