"""The code of docs/en/user_guides/5_add_backbone.md works as printed: each
worked-example config builds, its ``in_channels`` match the backbone, and the
model takes a training step; the channel-probing snippet prints what its
comment says."""
import ast
import contextlib
import io
import os.path as osp
import re
import shutil
from typing import List, Tuple

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
GUIDE = osp.join(ROOT, 'docs', 'en', 'user_guides', '5_add_backbone.md')


def python_blocks() -> List[str]:
    """The ```python blocks of the guide, in order."""
    with open(GUIDE, encoding='utf-8') as f:
        text = f.read()
    return re.findall(r'^```python\n(.*?)^```', text, flags=re.MULTILINE | re.DOTALL)


def config_blocks() -> List[Tuple[str, str]]:
    """``(configs/NAME.py, code)`` of the blocks whose first line names a config."""
    out = []
    for code in python_blocks():
        m = re.match(r'#\s*(configs/[\w./-]+\.py)\s*\n', code)
        if m:
            out.append((m.group(1), code))
    return out


def _batch(h: int = 96, w: int = 128) -> dict:
    """Two samples of the quick-start tasks with partial labels."""
    samples = []
    for i in range(2):
        d = SegDataSample()
        d.set_metainfo(dict(task_mask=dict(semseg=True, depth=i == 0, normal=i == 1, edge=True),
                            img_shape=(h, w), ori_shape=(h, w)))
        d.gt_sem_seg = PixelData(data=torch.randint(0, 10, (1, h, w)))
        d.gt_depth_map = PixelData(data=torch.rand(1, h, w) + 1)
        d.gt_normal_map = PixelData(
            data=torch.nn.functional.normalize(torch.randn(3, h, w), dim=0))
        d.gt_edge_map = PixelData(data=(torch.rand(1, h, w) > 0.9).long())
        samples.append(d)
    return dict(inputs=[torch.randint(0, 255, (3, h, w), dtype=torch.uint8) for _ in range(2)],
                data_samples=samples)


def test_guide_has_the_worked_examples():
    names = [name for name, _ in config_blocks()]
    assert names == ['configs/diffusionmtl/my_diffusionmtl_mit-b0_synthetic.py',
                     'configs/diffusionmtl/my_diffusionmtl_r50_synthetic.py'], names


@pytest.mark.parametrize('name,code', config_blocks(), ids=lambda v: osp.basename(str(v)))
def test_worked_example_config_builds_and_trains(tmp_path, name, code):
    """Saved where the guide says (next to the shipped configs), the config
    builds, its in_channels are the backbone's and a training step runs."""
    import mmdmtl  # noqa: F401
    from mmdmtl.registry import MODELS
    configs = tmp_path / 'configs'
    shutil.copytree(osp.join(ROOT, 'configs'), configs)
    path = tmp_path / name
    path.write_text(code)
    cfg = Config.fromfile(str(path))
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    with torch.no_grad():
        feats = model.backbone(torch.rand(1, 3, 96, 128))
    assert [f.shape[1] for f in feats] == list(cfg.model.decode_head.in_channels)
    model.train()
    data = model.data_preprocessor(_batch(), True)
    losses = model(**data, mode='loss')
    total = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total)
    total.backward()
    model.eval()
    with torch.no_grad():
        preds = model(**model.data_preprocessor(_batch(), False), mode='predict')
    assert preds[0].pred_depth_map.data.shape == (1, 96, 128)


def test_channel_probe_prints_its_comment():
    probes = [c for c in python_blocks() if 'print(' in c and not c.startswith('# configs/')]
    assert len(probes) == 1, 'expected one channel-probing snippet'
    code = probes[0]
    expected = ast.literal_eval(re.search(r'#\s*(\[[\d, ]+\])\s*$', code.strip()).group(1))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, GUIDE, 'exec'), {})
    assert ast.literal_eval(out.getvalue().strip().splitlines()[-1]) == expected
