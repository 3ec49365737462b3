"""Single-image multi-task inference: :class:`MTLInferencer`, an
:class:`mmengine.infer.BaseInferencer` registered in mmseg's
``INFERENCERS`` (so ``INFERENCERS.build(dict(type='MTLInferencer', ...))``
works after ``import mmdmtl``).

Example::

    from mmdmtl.apis import MTLInferencer
    inferencer = MTLInferencer(
        'configs/diffusionmtl/diffusionmtl_r18-lite_1xb8-1k_synthetic-96x128.py',
        'work_dirs/quickstart/iter_1000.pth')
    result = inferencer('demo.png')[0]     # {'semseg': HxW, 'depth': HxW, ...}
    inferencer.save(result, 'out/', 'demo', image=cv2.imread('demo.png'))
"""
import copy
import os
import os.path as osp
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.device import get_device
from mmengine.infer import BaseInferencer
from mmengine.logging import print_log
from mmengine.registry import FUNCTIONS, init_default_scope
from mmseg.structures import SegDataSample

from mmdmtl.registry import INFERENCERS
from mmdmtl.structures import MTLDataSample

ImageInput = Union[str, np.ndarray]
IMAGE_EXTS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.npy')
#: Test-pipeline steps that load targets; the inferencer drops them.
ANNOTATION_LOADERS = ('LoadMultiTaskAnnotations', 'LoadAnnotations', 'LoadDepthAnnotation')
#: Test-pipeline steps that load the image; replaced by ``MTLInferencerLoader``.
IMAGE_LOADERS = ('LoadMultiTaskImage', 'LoadImageFromFile')
#: Test-pipeline steps that pack the sample; the fit-resize goes before them.
PACKERS = ('PackMTLInputs', 'PackSegInputs')


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


def _type_name(step: dict) -> str:
    t = step.get('type')
    return t if isinstance(t, str) else getattr(t, '__name__', str(t))


def _sample_layout(data: np.ndarray) -> np.ndarray:
    """``HxW`` -> ``1xHxW``, ``HxWxC`` -> ``CxHxW`` (the data-sample layout)."""
    return data[None] if data.ndim == 2 else data.transpose(2, 0, 1)


@INFERENCERS.register_module()
class MTLInferencer(BaseInferencer):
    """Run a trained multi-task model on arbitrary images.

    The pipeline is the config's test pipeline
    (``cfg.test_dataloader.dataset.pipeline``) as in mmseg's
    ``MMSegInferencer``: annotation loading is dropped, the image loader
    becomes :class:`~mmdmtl.datasets.transforms.MTLInferencerLoader` (file
    paths or arrays, with the config's loader arguments) and, when
    ``scale`` applies, :class:`~mmdmtl.datasets.transforms.MTLResizeToFit`
    is put before the packing step. Pictures are drawn with the
    visualiser's public :meth:`~mmdmtl.visualization.MTLLocalVisualizer.draw_task`
    and :meth:`~mmdmtl.visualization.MTLLocalVisualizer.add_datasample`.

    Calling the inferencer returns a **list** with one dict of numpy arrays
    per input (not mmengine's ``{'predictions', 'visualization'}`` dict);
    ``return_datasamples=True`` returns the data samples instead, and
    ``out_dir=...`` also writes :meth:`save`'s files for every input.

    Args:
        config: Config path, :class:`~mmengine.config.Config` or dict.
        checkpoint: Checkpoint path, loaded with mmdmtl's safe
            (``weights_only``) loader; ``None`` keeps the random init.
        device: ``'cpu'``, ``'cuda'``, ... (default: mmengine's
            ``get_device()``, CUDA when available).
        scale: ``(h, w)`` the image is resized into (keeping its aspect
            ratio) before the network; predictions are resized back to the
            original size. ``None`` uses the config's ``crop_size`` unless
            the test pipeline resizes by itself (then the config's resize is
            honoured), else the image's own size.
        deterministic: Run the diffusion chain without test-time noise
            (``test_noise='none'``) so the same image always gives the same
            prediction. ``False`` keeps the official stochastic behaviour.
        float_scale: Multiplier of float images (files and arrays): 255 maps
            [0, 1] to [0, 255]; 1 for floats in [0, 255]. ``None``: the
            config loader's value (default 255). Integer images are mapped by
            their dtype's range (16-bit: ``v * 255 / 65535``); NaN / inf
            pixels become 0 with a warning naming the input (see
            :class:`~mmdmtl.datasets.transforms.LoadMultiTaskImage`).
        show_progress: Show mmengine's progress bar in ``__call__``.
    """

    preprocess_kwargs: set = set()
    forward_kwargs: set = set()
    visualize_kwargs: set = {'out_dir'}
    postprocess_kwargs: set = set()

    def __init__(self,
                 config: Union[str, Config, dict],
                 checkpoint: Optional[str] = None,
                 device: Optional[str] = None,
                 scale: Optional[Tuple[int, int]] = None,
                 deterministic: bool = True,
                 float_scale: Optional[float] = None,
                 show_progress: bool = False) -> None:
        import mmdmtl  # noqa: F401  registers the modules
        cfg = Config.fromfile(config) if isinstance(config, str) else \
            Config(copy.deepcopy(dict(config)))
        init_default_scope(cfg.get('default_scope', 'mmseg'))
        self._checkpoint = checkpoint
        self._deterministic = deterministic
        self._scale = scale
        self._float_scale = float_scale
        self.dataset_meta: Dict = {}
        self.tasks: List[str] = []
        super().__init__(model=cfg, weights=None, device=device or get_device(),
                         scope=cfg.get('default_scope', 'mmseg'),
                         show_progress=show_progress)
        self.device = device or get_device()

    # ---------------------------------------------------------------- init
    def _init_model(self, cfg: Config, weights: Optional[str], device: str = 'cpu'
                    ) -> torch.nn.Module:
        """Build the model, load the checkpoint safely (every key must
        match), read ``dataset_meta`` and set the deterministic mode."""
        from mmdmtl.engine import safe_torch_load
        from mmdmtl.registry import MODELS
        model = MODELS.build(cfg.model)
        checkpoint = self._checkpoint
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
        if self._deterministic and hasattr(head, 'test_noise'):
            head.test_noise = 'none'
        self.tasks = list(head.tasks)
        model.cfg = cfg
        return model.to(device).eval()

    @staticmethod
    def _meta_from_config(cfg: Config) -> Dict:
        try:
            from mmdmtl.registry import DATASETS
            ds_type = cfg.test_dataloader.dataset.type
            return dict(DATASETS.get(ds_type).METAINFO)
        except Exception:  # noqa: BLE001 - meta is only used for colours
            return {}

    def _init_pipeline(self, cfg: Config) -> Compose:
        """The config's test pipeline without annotation loading, with
        :class:`MTLInferencerLoader` as the image loader and, where
        :attr:`scale` applies, :class:`MTLResizeToFit` before packing."""
        try:
            steps = copy.deepcopy(list(cfg.test_dataloader.dataset.pipeline))
        except AttributeError as e:
            raise ValueError('MTLInferencer: the config has no '
                             'test_dataloader.dataset.pipeline to take the test '
                             'pipeline from') from e
        steps = [dict(s) for s in steps if _type_name(s) not in ANNOTATION_LOADERS]
        names = [_type_name(s) for s in steps]
        loaders = [i for i, n in enumerate(names) if n in IMAGE_LOADERS]
        if not loaders:
            raise ValueError(f'MTLInferencer: no image loader ({", ".join(IMAGE_LOADERS)}) '
                             f'in the config\'s test pipeline {names}')
        i = loaders[0]
        loader = steps[i] if names[i] == 'LoadMultiTaskImage' else {}
        loader = {k: v for k, v in loader.items() if k != 'type'}
        if self._float_scale is not None:
            loader['float_scale'] = self._float_scale
        self.float_scale = float(loader.get('float_scale', 255.0))
        steps[i] = dict(type='MTLInferencerLoader', **loader)
        self._loader_index = i
        scale = self._scale
        if scale is None and cfg.get('crop_size') is not None and \
                not any('Resize' in n for n in names):
            scale = tuple(cfg.crop_size)
        self.scale = None if scale is None else tuple(int(v) for v in scale)
        if self.scale is not None:
            packs = [k for k, n in enumerate(names) if n in PACKERS]
            at = packs[0] if packs else len(steps)
            steps.insert(at, dict(type='MTLResizeToFit', size=self.scale))
        return Compose(steps)

    def _init_collate(self, cfg: Config) -> Callable:
        """The config's ``test_dataloader.collate_fn`` (a name or a dict
        with ``type``, from mmengine's ``FUNCTIONS``), else
        ``pseudo_collate``."""
        collate = cfg.get('test_dataloader', {}).get('collate_fn')
        if collate is None:
            return pseudo_collate
        name = collate if isinstance(collate, str) else collate.get('type')
        fn = FUNCTIONS.get(name)
        if fn is None:
            raise ValueError(f'MTLInferencer: unknown test_dataloader.collate_fn {name!r}')
        return fn

    def _init_visualizer(self, cfg: Config):
        """An :class:`MTLLocalVisualizer` (the config's arguments when its
        visualiser is one) without storage backends."""
        from mmdmtl.visualization import MTLLocalVisualizer
        kwargs = {}
        vis_cfg = cfg.get('visualizer')
        if vis_cfg is not None and _type_name(vis_cfg) == 'MTLLocalVisualizer':
            kwargs = {k: v for k, v in vis_cfg.items()
                      if k in ('alpha', 'depth_cmap', 'classes', 'palette')}
        vis = MTLLocalVisualizer(name=f'mtl_inferencer_{id(self)}', **kwargs)
        vis.dataset_meta = self.dataset_meta
        return vis

    # -------------------------------------------------------------- inputs
    def _inputs_to_list(self, inputs: Union[ImageInput, Sequence[ImageInput]]) -> list:
        """Paths, folders (their sorted images) and arrays as one list."""
        if isinstance(inputs, (str, np.ndarray)):
            inputs = [inputs]
        items: List[ImageInput] = []
        for x in inputs:
            items.extend(list_images(x) if isinstance(x, str) else [x])
        return items

    @staticmethod
    def _as_results(item: ImageInput, index: int) -> dict:
        if isinstance(item, np.ndarray):
            return dict(img=item, input_index=index)
        return dict(img_path=item, input_index=index)

    def read(self, item: ImageInput, index: int = 0) -> dict:
        """Read one input (path or ``H x W x 3`` BGR array) through the
        pipeline's loading steps: results at the original size, ``img``
        ``uint8`` BGR, ``img_path`` (``array_<index>`` for arrays).

        Raises:
            AnnotationReadError: the file is missing or cannot be decoded,
                or its pixel values are out of range (names the file).
            ValueError: an array of the wrong shape.
        """
        results = self._as_results(item, index)
        for t in self.pipeline.transforms[:self._loader_index + 1]:
            results = t(results)
        return results

    def prepare(self, results: dict) -> dict:
        """Run the pipeline's steps after loading (resize, packing) on
        :meth:`read`'s ``results`` (which are not changed)."""
        results = dict(results)
        for t in self.pipeline.transforms[self._loader_index + 1:]:
            results = t(results)
        return results

    def preprocess(self, inputs: List[ImageInput], batch_size: int = 1,
                   **kwargs) -> Iterable[dict]:
        """Batches of collated pipeline outputs; the first unreadable input
        raises, naming it."""
        prepared = (self.prepare(self.read(x, i)) for i, x in enumerate(inputs))
        yield from map(self.collate_fn, self._get_chunk_data(prepared, batch_size))

    # ------------------------------------------------------------- outputs
    def to_numpy(self, sample: SegDataSample) -> Dict[str, np.ndarray]:
        """The predictions of a data sample: ``HxW`` per task, ``HxWxC`` for
        multi-channel maps (normals)."""
        sample = MTLDataSample.wrap(sample)
        out = {}
        for t in self.tasks:
            data = sample.pred(t).cpu().numpy()
            out[t] = data[0] if data.shape[0] == 1 else data.transpose(1, 2, 0)
        return out

    def predict(self, prepared: Sequence[dict]) -> List[Dict[str, np.ndarray]]:
        """Predict every task for inputs made by :meth:`prepare` (one
        batch); returns one dict per input, as :meth:`__call__`."""
        return [self.to_numpy(s) for s in self.forward(self.collate_fn(list(prepared)))]

    def __call__(self, inputs: Union[ImageInput, Sequence[ImageInput]],
                 return_datasamples: bool = False, batch_size: int = 1,
                 **kwargs) -> List[Any]:
        """Predict every task for each input.

        Returns one dict per input: ``semseg``/``parts`` HxW int64 labels,
        ``depth`` HxW float metres, ``normal`` HxWx3 unit vectors,
        ``edge``/``sal`` HxW probabilities, all at the input's size
        (``return_datasamples=True``: the data samples). ``out_dir=DIR``
        also writes :meth:`save`'s files for each input. The first
        unreadable input raises (naming it); ``tools/infer.py
        --skip-errors`` shows how to skip them with :meth:`read`.
        """
        return super().__call__(inputs, return_datasamples=return_datasamples,
                                batch_size=batch_size, **kwargs)

    def visualize(self, inputs: list, preds: List[SegDataSample], show: bool = False,
                  out_dir: Optional[str] = None, **kwargs) -> Optional[List[List[str]]]:
        """With ``out_dir``: :meth:`save` every input's predictions there
        (named after the file, ``array_<i>`` for arrays); returns the
        written paths per input. Without: nothing is drawn."""
        if out_dir is None:
            return None
        written = []
        for i, (item, sample) in enumerate(zip(inputs, preds)):
            name = f'array_{i}' if isinstance(item, np.ndarray) else \
                osp.splitext(osp.basename(item))[0]
            image = self.read(item, i)['img']
            written.append(self.save(self.to_numpy(sample), out_dir, name, image=image))
        return written

    def postprocess(self, preds: List[SegDataSample], visualization: Any = None,
                    return_datasample: bool = False, **kwargs) -> List[Any]:
        """One dict of numpy arrays per input (or the data samples)."""
        if return_datasample:
            return list(preds)
        return [self.to_numpy(s) for s in preds]

    # ------------------------------------------------------------- drawing
    def render(self, result: Dict[str, np.ndarray], image: Optional[np.ndarray] = None
               ) -> Dict[str, np.ndarray]:
        """RGB pictures per task (the visualiser's
        :meth:`~mmdmtl.visualization.MTLLocalVisualizer.draw_task`) and an
        ``'overview'`` picture (its ``add_datasample``); ``image`` is BGR."""
        vis = self.visualizer
        h, w = next(iter(result.values())).shape[:2]
        if image is None:
            image = np.zeros((h, w, 3), np.uint8)
        elif image.shape[:2] != (h, w):
            image = cv2.resize(image, (w, h))
        rgb = image[..., ::-1].copy()
        pics = {t: vis.draw_task(t, _sample_layout(data), rgb) for t, data in result.items()}
        pics['overview'] = vis.add_datasample('overview', rgb, self._as_sample(result),
                                              draw_gt=False, draw_pred=True,
                                              tasks=list(result))
        return pics

    @staticmethod
    def _as_sample(result: Dict[str, np.ndarray]) -> MTLDataSample:
        s = MTLDataSample()
        for t, data in result.items():
            s.set_pred(t, _sample_layout(data))
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


__all__ = ['MTLInferencer', 'list_images']
