"""MTLInferencer on mmengine's BaseInferencer: registry, the config's test
pipeline, and the visualiser's public drawing API."""
import copy
import os.path as osp
import re
from pathlib import Path

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
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(CONFIG).model)
    path = str(tmp_path_factory.mktemp('ckpt') / 'model.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    return path


@pytest.fixture(scope='module')
def inferencer(checkpoint):
    from mmdmtl.apis import MTLInferencer
    return MTLInferencer(CONFIG, checkpoint, device='cpu')


@pytest.fixture(scope='module')
def image(tmp_path_factory):
    path = tmp_path_factory.mktemp('img') / 'a.png'
    cv2.imwrite(str(path), np.random.default_rng(0).integers(0, 255, (50, 70, 3), np.uint8))
    return str(path)


def test_built_by_name_from_the_registry(checkpoint, inferencer, image):
    from mmengine.infer import BaseInferencer

    import mmdmtl  # noqa: F401
    from mmdmtl.apis import MTLInferencer
    from mmdmtl.registry import INFERENCERS
    built = INFERENCERS.build(dict(type='MTLInferencer', config=CONFIG,
                                   checkpoint=checkpoint, device='cpu'))
    assert isinstance(built, MTLInferencer) and isinstance(built, BaseInferencer)
    got, want = built(image)[0], inferencer(image)[0]
    assert set(got) == set(inferencer.tasks)
    for t in got:
        np.testing.assert_array_equal(got[t], want[t])


def test_call_returns_samples_and_writes_out_dir(inferencer, image, tmp_path):
    from mmseg.structures import SegDataSample

    from mmdmtl.structures.tasks import get_task
    samples = inferencer([image, image], return_datasamples=True, batch_size=2)
    assert len(samples) == 2 and all(isinstance(s, SegDataSample) for s in samples)
    depth_field = get_task('depth').pred_field
    assert getattr(samples[0], depth_field).data.shape[-2:] == (50, 70)
    result = inferencer(image, out_dir=str(tmp_path))[0]
    np.testing.assert_array_equal(np.load(tmp_path / 'a_depth.npy'), result['depth'])
    assert (tmp_path / 'a_overview.png').is_file() and (tmp_path / 'a_semseg.png').is_file()


def _config_with_pipeline(pipeline):
    from mmengine.config import Config
    cfg = Config.fromfile(CONFIG)
    cfg.test_dataloader.dataset.pipeline = copy.deepcopy(pipeline)
    return cfg


def test_the_config_test_pipeline_is_honoured(checkpoint, image):
    from mmcv.transforms import BaseTransform

    from mmdmtl.apis import MTLInferencer
    from mmdmtl.registry import TRANSFORMS

    seen = []

    @TRANSFORMS.register_module(name='_RecordShapeForTest', force=True)
    class _RecordShape(BaseTransform):
        def transform(self, results):
            seen.append(results['img'].shape[:2])
            return results

    cfg = _config_with_pipeline([
        dict(type='LoadMultiTaskImage', float_scale=1.0),
        dict(type='LoadMultiTaskAnnotations'),
        dict(type='MTLResize', scale=(64, 48), keep_ratio=False),
        dict(type='_RecordShapeForTest'),
        dict(type='PackMTLInputs'),
    ])
    inf = MTLInferencer(cfg, checkpoint, device='cpu')
    names = [type(t).__name__ for t in inf.pipeline.transforms]
    # annotations dropped, loader swapped, the config's resize kept (so no
    # crop-size fit is added), the custom step run
    assert names == ['MTLInferencerLoader', 'MTLResize', '_RecordShape', 'PackMTLInputs']
    assert inf.scale is None and inf.float_scale == 1.0
    result = inf(image)[0]
    assert seen == [(48, 64)]
    assert result['depth'].shape == (50, 70)  # back at the input's size
    # the config loader's float_scale=1 is used for arrays too
    arr = np.full((6, 8, 3), 100.0, np.float32)
    assert (inf.read(arr)['img'] == 100).all()
    # the default pipeline fits the crop size instead
    default = MTLInferencer(CONFIG, checkpoint, device='cpu')
    assert [type(t).__name__ for t in default.pipeline.transforms] == [
        'MTLInferencerLoader', 'MTLResizeToFit', 'PackMTLInputs']
    assert default.prepare(default.read(image))['inputs'].shape[-2:] == (91, 128)


def test_a_test_pipeline_without_image_loader_is_refused(checkpoint):
    from mmdmtl.apis import MTLInferencer
    cfg = _config_with_pipeline([dict(type='PackMTLInputs')])
    with pytest.raises(ValueError, match=r'no image loader.*PackMTLInputs'):
        MTLInferencer(cfg, checkpoint, device='cpu')


def test_saved_pictures_are_the_visualisers_public_drawing(inferencer, image, tmp_path):
    result = inferencer(image)[0]
    bgr = cv2.imread(image)
    inferencer.save(result, str(tmp_path), 'a', image=bgr)
    vis = inferencer.visualizer
    for task, data in result.items():
        layout = data[None] if data.ndim == 2 else data.transpose(2, 0, 1)
        drawn = vis.draw_task(task, layout, np.ascontiguousarray(bgr[..., ::-1]))
        saved = cv2.imread(str(tmp_path / f'a_{task}.png'))[..., ::-1]
        np.testing.assert_array_equal(saved, drawn, err_msg=task)
    with pytest.raises(ValueError, match='depth map of size'):
        vis.draw_task('depth', result['depth'][None], np.zeros((5, 5, 3), np.uint8))


def test_no_private_visualiser_calls_outside_the_visualiser():
    from mmdmtl.visualization import MTLLocalVisualizer
    private = sorted(n for n in vars(MTLLocalVisualizer) if n.startswith('_draw_'))
    assert private, 'the visualiser has no private _draw_ helpers to look for'
    pattern = re.compile(r'\.(%s)\(' % '|'.join(private))
    offenders = []
    for folder in ('mmdmtl', 'tools', 'demo'):
        for path in Path(ROOT, folder).rglob('*.py'):
            if path.name == 'local_visualizer.py':
                continue
            for n, line in enumerate(path.read_text().splitlines(), 1):
                if pattern.search(line):
                    offenders.append(f'{path.relative_to(ROOT)}:{n}: {line.strip()}')
    assert not offenders, '\n'.join(offenders)


def test_inferencer_loader_and_fit_resize():
    from mmdmtl.datasets.transforms import MTLInferencerLoader, MTLResizeToFit
    loader = MTLInferencerLoader()
    with pytest.raises(ValueError, match=r'input #3: expected an HxWx3 BGR array'):
        loader(dict(img=np.zeros((4, 5)), input_index=3))
    out = loader(dict(img=np.full((4, 5, 3), 65535, np.uint16), input_index=1))
    assert out['img'].dtype == np.uint8 and (out['img'] == 255).all()
    assert out['img_path'] == 'array_1' and out['ori_shape'] == (4, 5)
    # per-axis fit: a portrait image never exceeds the height
    fit = MTLResizeToFit((96, 128))(dict(img=np.zeros((120, 45, 3), np.uint8)))
    assert fit['img'].shape[:2] == (96, 36) and fit['scale_factor'] == (0.8, 0.8)
    same = MTLResizeToFit((96, 128))(dict(img=np.zeros((96, 128, 3), np.uint8)))
    assert 'scale_factor' not in same
