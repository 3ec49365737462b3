"""Single-image multi-task inference: :class:`MTLInferencer`.

Example::

    from mmdmtl.apis import MTLInferencer
    inferencer = MTLInferencer(
        'configs/diffusionmtl/diffusionmtl_r18-lite_1xb8-1k_synthetic-96x128.py',
        'work_dirs/quickstart/iter_1000.pth')
    result = inferencer('demo.png')[0]     # {'semseg': HxW, 'depth': HxW, ...}
    inferencer.save(result, 'out/', 'demo', image=cv2.imread('demo.png'))
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.logging import print_log
from mmengine.registry import init_default_scope

from mmdmtl.datasets.transforms.image_values import image_to_uint8
from mmdmtl.structures.tasks import get_task

ImageInput = Union[str, np.ndarray]
IMAGE_EXTS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.npy')


def list_images(path: str) -> List[str]:
    """A single image path, or the sorted images of a folder."""
    if osp.isdir(path):
        files = sorted(
            osp.join(path, f) for f in os.listdir(path)
            if f.lower().endswith(IMAGE_EXTS))
        if not files:
            raise FileNotFoundError(f'no images ({", ".join(IMAGE_EXTS)}) in {path}')
        return files
    if not osp.isfile(path):
        raise FileNotFoundError(f'input {path} does not exist')
    return [path]


class MTLInferencer:
    """Run a trained multi-task model on arbitrary images.

    Args:
        config: Config path or :class:`~mmengine.config.Config`.
        checkpoint: Checkpoint path, loaded with torch's safe
            (``weights_only``) unpickler; ``None`` keeps the random init.
        device: ``'cpu'``, ``'cuda'``, ... (default: CUDA when available).
        scale: ``(h, w)`` the image is resized into (keeping its aspect
            ratio) before the network; predictions are resized back to the
            original size. ``None`` uses the config's ``crop_size`` when it
            has one, else the image's own size.
        deterministic: Run the diffusion chain without test-time noise
            (``test_noise='none'``) so the same image always gives the same
            prediction. ``False`` keeps the official stochastic behaviour.
        float_scale: Multiplier of float images (files and arrays): 255 maps
            [0, 1] to [0, 255]; 1 for floats in [0, 255]. Integer images are
            mapped by their dtype's range (16-bit: ``v * 255 / 65535``); NaN
            / inf pixels become 0 with a warning naming the input (see
            :class:`~mmdmtl.datasets.transforms.LoadMultiTaskImage`).
    """

    def __init__(self,
                 config: Union[str, Config],
                 checkpoint: Optional[str] = None,
                 device: Optional[str] = None,
                 scale: Optional[Tuple[int, int]] = None,
                 deterministic: bool = True,
                 float_scale: float = 255.0) -> None:
        import mmdmtl  # noqa: F401  registers the modules
        from mmdmtl.engine.runner import safe_torch_load
        from mmdmtl.registry import MODELS

        cfg = Config.fromfile(config) if isinstance(config, str) else config
        init_default_scope(cfg.get('default_scope', 'mmseg'))
        self.cfg = cfg
        self.device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
        model = MODELS.build(cfg.model)
        self.dataset_meta: Dict = {}
        if checkpoint is not None:
            ckpt = safe_torch_load(checkpoint, map_location='cpu')
            state = ckpt.get('state_dict', ckpt)
            state = {k[7:] if k.startswith('module.') else k: v for k, v in state.items()}
            result = model.load_state_dict(state, strict=False)
            if result.missing_keys or result.unexpected_keys:
                raise RuntimeError(
                    f'checkpoint {checkpoint} does not match the model of the '
                    f'config: missing keys {result.missing_keys[:10]}, unexpected '
                    f'keys {result.unexpected_keys[:10]}')
            self.dataset_meta = dict(ckpt.get('meta', {}).get('dataset_meta') or {})
        if not self.dataset_meta:
            self.dataset_meta = self._meta_from_config(cfg)
        head = model.decode_head
        if deterministic and hasattr(head, 'test_noise'):
            head.test_noise = 'none'
        self.tasks: List[str] = list(head.tasks)
        self.model = model.to(self.device).eval()
        if scale is None and cfg.get('crop_size') is not None:
            scale = tuple(cfg.crop_size)
        self.scale = scale
        self.float_scale = float_scale
        self.pipeline = Compose([dict(type='LoadMultiTaskImage', float_scale=float_scale),
                                 dict(type='PackMTLInputs')])
        from mmdmtl.visualization import MTLLocalVisualizer
        self.visualizer = MTLLocalVisualizer(name=f'mtl_inferencer_{id(self)}')
        self.visualizer.dataset_meta = self.dataset_meta

    @staticmethod
    def _meta_from_config(cfg: Config) -> Dict:
        try:
            from mmdmtl.registry import DATASETS
            ds_type = cfg.test_dataloader.dataset.type
            return dict(DATASETS.get(ds_type).METAINFO)
        except Exception:  # noqa: BLE001 - meta is only used for colours
            return {}

    def read(self, item: ImageInput, index: int = 0) -> dict:
        """Read one input (path or ``H x W x 3`` BGR array) into pipeline
        results at its original size: ``img`` ``uint8`` BGR, ``img_path``.

        Arrays follow the same value rules as files: ``uint8`` as is, other
        integers by their dtype's range, floats times ``float_scale``.

        Raises:
            AnnotationReadError: the file is missing or cannot be decoded,
                or its pixel values are out of range (names the file).
            ValueError: an array of the wrong shape.
        """
        if isinstance(item, np.ndarray):
            if item.ndim != 3 or item.shape[2] != 3:
                raise ValueError(f'input #{index}: expected an HxWx3 BGR array, '
                                 f'got shape {item.shape}')
            img = image_to_uint8(item, f'input array #{index}', self.float_scale)
            return dict(img=img, img_path=f'array_{index}', ori_shape=img.shape[:2],
                        img_shape=img.shape[:2], seg_fields=[])
        return self.pipeline.transforms[0](dict(img_path=item, seg_fields=[]))

    def prepare(self, results: dict) -> dict:
        """Resize the image of :meth:`read`'s ``results`` to :attr:`scale`
        and pack it for the model (``results`` is not changed)."""
        results = dict(results)
        results.setdefault('task_mask', {})
        if self.scale is not None:
            h, w = results['img'].shape[:2]
            sh, sw = self.scale
            ratio = min(sh / h, sw / w)
            if abs(ratio - 1) > 1e-6:
                results['img'] = cv2.resize(
                    results['img'], (max(1, round(w * ratio)), max(1, round(h * ratio))),
                    interpolation=cv2.INTER_LINEAR)
                results['img_shape'] = results['img'].shape[:2]
                results['scale_factor'] = (ratio, ratio)
        return self.pipeline.transforms[1](results)

    def _load(self, item: ImageInput, index: int) -> dict:
        return self.prepare(self.read(item, index))

    @torch.no_grad()
    def predict(self, prepared: Sequence[dict]) -> List[Dict[str, np.ndarray]]:
        """Predict every task for inputs made by :meth:`prepare` (one
        batch); returns one dict per input, as :meth:`__call__`."""
        data = dict(inputs=[c['inputs'] for c in prepared],
                    data_samples=[c['data_samples'] for c in prepared])
        return [self._to_numpy(sample) for sample in self.model.test_step(data)]

    def __call__(self, inputs: Union[ImageInput, Sequence[ImageInput]],
                 batch_size: int = 1) -> List[Dict[str, np.ndarray]]:
        """Predict every task for each input.

        Returns one dict per input: ``semseg``/``parts`` HxW int64 labels,
        ``depth`` HxW float metres, ``normal`` HxWx3 unit vectors,
        ``edge``/``sal`` HxW probabilities, all at the input's size. The
        first unreadable input raises (naming it); ``tools/infer.py
        --skip-errors`` shows how to skip them with :meth:`read`.
        """
        if isinstance(inputs, (str, np.ndarray)):
            inputs = [inputs]
        items: List[ImageInput] = []
        for x in inputs:
            items.extend(list_images(x) if isinstance(x, str) else [x])
        outputs = []
        for start in range(0, len(items), batch_size):
            batch = items[start:start + batch_size]
            outputs.extend(self.predict([self._load(x, start + i)
                                         for i, x in enumerate(batch)]))
        return outputs

    def _to_numpy(self, sample) -> Dict[str, np.ndarray]:
        out = {}
        for t in self.tasks:
            data = getattr(sample, get_task(t).pred_field).data.cpu().numpy()
            out[t] = data.transpose(1, 2, 0) if t == 'normal' else data[0]
        return out

    def render(self, result: Dict[str, np.ndarray], image: Optional[np.ndarray] = None
               ) -> Dict[str, np.ndarray]:
        """RGB pictures per task (semantic colours, depth colour map, normals
        as (n+1)/2, edges/saliency as grey) and an ``'overview'`` picture."""
        vis = self.visualizer
        h, w = next(iter(result.values())).shape[:2]
        if image is None:
            image = np.zeros((h, w, 3), np.uint8)
        elif image.shape[:2] != (h, w):
            image = cv2.resize(image, (w, h))
        rgb = image[..., ::-1].copy()
        pics = {}
        for t, data in result.items():
            kind = get_task(t).kind
            if kind == 'segmentation':
                pics[t] = vis._draw_labels(t, data, rgb)
            elif kind == 'depth':
                valid = data[np.isfinite(data)]
                vrange = (float(valid.min()), float(valid.max())) if valid.size else (0., 1.)
                pics[t] = vis._draw_depth(data, vrange)
            elif kind == 'normal':
                pics[t] = vis._draw_normal(data.transpose(2, 0, 1))
            else:
                pics[t] = vis._draw_binary(t, data)
        sample = self._as_sample(result)
        pics['overview'] = vis.add_datasample('overview', rgb, sample, draw_gt=False,
                                              draw_pred=True, tasks=list(result))
        return pics

    def _as_sample(self, result: Dict[str, np.ndarray]):
        from mmengine.structures import PixelData
        from mmseg.structures import SegDataSample
        s = SegDataSample()
        for t, data in result.items():
            arr = data.transpose(2, 0, 1) if t == 'normal' else data[None]
            s.set_field(PixelData(data=torch.from_numpy(np.ascontiguousarray(arr))),
                        get_task(t).pred_field)
        return s

    def save(self, result: Dict[str, np.ndarray], out_dir: str, name: str,
             image: Optional[np.ndarray] = None) -> List[str]:
        """Write ``{name}_{task}.npy`` (raw arrays), ``{name}_{task}.png`` and
        ``{name}_overview.png`` into ``out_dir``; returns the written paths."""
        os.makedirs(out_dir, exist_ok=True)
        written = []
        for t, data in result.items():
            p = osp.join(out_dir, f'{name}_{t}.npy')
            np.save(p, data)
            written.append(p)
        for key, pic in self.render(result, image).items():
            p = osp.join(out_dir, f'{name}_{key}.png')
            cv2.imwrite(p, np.ascontiguousarray(pic[..., ::-1]))
            written.append(p)
        print_log(f'wrote {len(written)} files for {name} to {out_dir}', logger='current',
                  level=10)
        return written
