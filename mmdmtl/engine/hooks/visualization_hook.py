"""Draw multi-task predictions during validation and testing."""
import os.path as osp
import warnings
from typing import Any, Optional, Sequence

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.utils import mkdir_or_exist
from mmengine.visualization import Visualizer

from mmdmtl.registry import HOOKS


def input_to_rgb(img: Any) -> np.ndarray:
    """Convert one ``data_batch['inputs']`` entry (``(3, H, W)`` BGR, before
    the data preprocessor) to an ``(H, W, 3)`` RGB uint8 array."""
    if isinstance(img, torch.Tensor):
        img = img.detach().cpu()
        img = img.numpy() if img.dtype == torch.uint8 else img.float().numpy()
    img = np.asarray(img)
    if img.ndim == 2:
        img = img[None]
    if img.ndim != 3:
        raise ValueError(f'expected a (C, H, W) image, got shape {img.shape}')
    img = img.transpose(1, 2, 0)
    if img.shape[2] == 1:
        img = np.repeat(img, 3, axis=2)
    if img.dtype != np.uint8:
        img = np.clip(img, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(img[..., 2::-1])


@HOOKS.register_module()
class MTLVisualizationHook(Hook):
    """Visualise multi-task ground truth and predictions (val and test).

    Unlike mmseg's ``SegVisualizationHook`` the image is taken from
    ``data_batch['inputs']`` (uint8 BGR tensors before the data
    preprocessor), so it works for datasets whose images are not files a
    visualiser could re-read (MTAN ``.npy``).

    * Validation: every ``interval``-th batch is drawn and sent to the
      visualiser's backends (``work_dir/<timestamp>/vis_data/vis_image`` with
      ``LocalVisBackend``).
    * Test: every sample is drawn; with ``test_out_dir`` one PNG per sample
      is written to ``work_dir/<timestamp>/<test_out_dir>`` (an absolute
      path is used as is); this is what ``tools/test.py --show-dir`` sets.

    Args:
        draw: Draw at all (``tools/test.py --show/--show-dir`` turn it on).
        interval: Validation batches between drawings.
        show: Display in a window (storage backends are then dropped).
        wait_time: Seconds to wait when showing.
        test_out_dir: Folder for the test pictures.
        tasks: Restrict drawing to these tasks (default: all present).

    Example:
        >>> default_hooks = dict(visualization=dict(
        ...     type='MTLVisualizationHook', draw=True, interval=50))
    """

    priority = 'NORMAL'

    def __init__(self,
                 draw: bool = False,
                 interval: int = 50,
                 show: bool = False,
                 wait_time: float = 0.,
                 test_out_dir: Optional[str] = None,
                 tasks: Optional[Sequence[str]] = None) -> None:
        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        self._visualizer: Visualizer = Visualizer.get_current_instance()
        if not hasattr(self._visualizer, 'sample_tasks'):
            warnings.warn(f'MTLVisualizationHook expects an MTLLocalVisualizer, got '
                          f'{type(self._visualizer).__name__}; set '
                          "visualizer=dict(type='MTLLocalVisualizer', ...) in the config")
        self.draw = draw
        self.interval = interval
        self.show = show
        if show:
            self._visualizer._vis_backends = {}
        self.wait_time = wait_time
        self.test_out_dir = test_out_dir
        self.tasks = tasks
        self._test_index = 0

    def _draw_batch(self, runner, data_batch: dict, outputs: Sequence, mode: str,
                    out_dir: Optional[str]) -> None:
        inputs = data_batch.get('inputs') if isinstance(data_batch, dict) else None
        if inputs is None:
            raise KeyError("MTLVisualizationHook needs data_batch['inputs']")
        for i, sample in enumerate(outputs):
            img = input_to_rgb(inputs[i])
            img_path = sample.metainfo.get('img_path') if hasattr(sample, 'metainfo') else None
            base = (osp.splitext(osp.basename(img_path))[0] if img_path
                    else f'{self._test_index if mode == "test" else i:06d}')
            out_file = osp.join(out_dir, f'{base}.png') if out_dir else None
            step = self._test_index if mode == 'test' else runner.iter
            self._visualizer.add_datasample(
                f'{mode}_{base}', img, data_sample=sample, show=self.show,
                wait_time=self.wait_time, out_file=out_file, step=step, tasks=self.tasks)
            if mode == 'test':
                self._test_index += 1

    def after_val_iter(self, runner, batch_idx: int, data_batch: dict = None,
                       outputs: Optional[Sequence] = None) -> None:
        """Draw every ``interval``-th validation batch."""
        if not self.draw or not outputs:
            return
        if self.every_n_inner_iters(batch_idx, self.interval):
            self._draw_batch(runner, data_batch, outputs, 'val', None)

    def before_test(self, runner) -> None:
        """Resolve and create the test output folder."""
        self._test_index = 0
        if self.draw and self.test_out_dir is not None:
            self._out_dir = osp.join(runner.work_dir, runner.timestamp, self.test_out_dir)
            mkdir_or_exist(self._out_dir)

    def after_test_iter(self, runner, batch_idx: int, data_batch: dict = None,
                        outputs: Optional[Sequence] = None) -> None:
        """Draw every test sample."""
        if not self.draw or not outputs:
            return
        out_dir = getattr(self, '_out_dir', None) if self.test_out_dir is not None else None
        self._draw_batch(runner, data_batch, outputs, 'test', out_dir)
