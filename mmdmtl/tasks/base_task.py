"""The base class of a dense prediction task.

A task object owns everything that differs between tasks, from the file on
disk to the picture in the visualiser:

* **data**: where its target travels (``results_key``, ``gt_field``,
  ``pred_field``, ``path_key``), how a target file is decoded
  (:meth:`BaseTask.load`), its invalid / pad value, an all-invalid target
  for unlabelled samples, how a flip changes its values, how a resized
  target is repaired and how it is packed into a data sample;
* **model**: its output channels, the activation from raw head output to the
  task's output space, the prediction stored in the data sample, its default
  loss;
* **evaluation**: its default metric, headline metric and the direction of
  each metric (the sign in Δm), its trivial constant predictor;
* **drawing**: how the visualiser (and so the inferencer) draws a map.

Every other module asks :func:`~mmdmtl.tasks.get_task` for the task object
and never branches on a task name. Add a task by subclassing
:class:`BaseTask` and registering the class in :data:`mmdmtl.registry.TASKS`
under the task name (see ``docs/en/user_guides/add_task.md``).
"""
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor

#: Flip directions and the (channel) axes whose sign a flip reverses for
#: vector-valued targets: x for horizontal, y for vertical, both for diagonal.
FLIP_AXES: Dict[str, Tuple[int, ...]] = dict(horizontal=(0, ), vertical=(1, ), diagonal=(0, 1))


class BaseTask:
    """One dense prediction task (subclass it and register the subclass).

    Class attributes a subclass sets:

    Attributes:
        name: Task name used in configs and metric keys (``'depth'``).
        kind: A descriptive family (``'segmentation'``, ``'binary'``,
            ``'depth'``, ``'normal'``, ...). Informative only: nothing in
            mmdmtl dispatches on it.
        invalid_value: Value of an invalid / unlabelled target pixel; also
            the padding value of targets.
        gt_channels: Channels of the packed ground truth.
        is_float: Whether the ground truth is a float map (else ``int64``).
        channels_are_classes: The head's output channels are classes (the
            prediction is their argmax).
        is_binary: The output is one logit of a positive class (a head may
            predict it with a two-class conv, ``two_class_tasks``).
        headline_metric: Name (without ``task/``) of the task's main metric.
        metric_directions: ``{metric name: higher is better}`` of the task's
            metrics (the sign of each in Δm).
        default_loss: Loss config used when a head's ``loss_decode`` names
            no loss for the task.
        default_metric: Metric config evaluating the task.
        published_names: Names of the task in published split files.
        optional_activation: The activation is only a range constraint that
            a head may skip (``depth_activation='linear'``).
        logits_field: Data-sample field that also receives the activated
            output (mmseg's ``seg_logits`` for semseg), or ``None``.
        unit: Unit of the values, shown on the visualiser's colour bar.
        classes_key: ``dataset_meta`` key with the class names (tasks whose
            channels are classes), else ``None``.
    """

    name: str = ''
    kind: str = ''
    invalid_value: float = 255
    gt_channels: int = 1
    is_float: bool = False
    channels_are_classes: bool = False
    is_binary: bool = False
    headline_metric: str = ''
    metric_directions: Dict[str, bool] = {}
    default_loss: dict = {}
    default_metric: dict = {}
    published_names: Tuple[str, ...] = ()
    optional_activation: bool = False
    logits_field: Optional[str] = None
    unit: str = ''
    #: decimals of the headline metric in result tables (depth: metres, 4)
    report_decimals: int = 2
    classes_key: Optional[str] = None

    # ------------------------------------------------------------------ keys
    @property
    def results_key(self) -> str:
        """Key of the target in the transform pipeline's dict."""
        return f'gt_{self.name}_map'

    @property
    def gt_field(self) -> str:
        """Field of the packed ground truth in a data sample."""
        return f'gt_{self.name}_map'

    @property
    def pred_field(self) -> str:
        """Field of the prediction in a data sample."""
        return f'pred_{self.name}_map'

    @property
    def path_key(self) -> str:
        """Key of the target's file path in a data info dict."""
        return f'{self.name}_map_path'

    @property
    def palette_key(self) -> str:
        """``dataset_meta`` key of the class colours drawn for this task."""
        return f'{self.name}_palette'

    @property
    def pad_value(self) -> float:
        """Value that pads the target (the invalid value)."""
        return self.invalid_value

    @property
    def is_label_map(self) -> bool:
        """True for tasks whose targets are integer label maps."""
        return not self.is_float

    @property
    def headline_key(self) -> str:
        """Full key of the headline metric, e.g. ``'depth/absErr'``."""
        return f'{self.name}/{self.headline_metric}'

    @property
    def higher_is_better(self) -> bool:
        """Direction of the headline metric."""
        return self.metric_direction(self.headline_metric)

    def metric_direction(self, metric: str) -> bool:
        """Whether a larger ``metric`` (name without ``task/``) is better.

        Raises:
            KeyError: the task does not know the metric.
        """
        try:
            return bool(self.metric_directions[metric])
        except KeyError:
            raise KeyError(f'task {self.name!r} has no metric {metric!r}; its metrics '
                           f'are {sorted(self.metric_directions)}') from None

    # ------------------------------------------------------------------ data
    def load(self, path: str, results: dict, backend_args: Optional[dict] = None,
             **options) -> Optional[np.ndarray]:
        """Read and decode the target file ``path`` of one sample.

        Args:
            path: The target file (its extension chooses the decoder).
            results: The pipeline dict (dataset keys that change decoding,
                ``sample_idx`` for messages).
            backend_args: mmengine file backend arguments.
            **options: Task-specific reader options (e.g. ``threshold``).

        Returns:
            The target in the pipeline layout (``(H, W)``, or ``(H, W, C)``
            for ``gt_channels > 1``), or ``None`` when the file holds no
            label for the image (the target becomes all-invalid).
        """
        raise NotImplementedError(f'{type(self).__name__} cannot read target files')

    def target_shape(self, shape: Sequence[int]) -> Tuple[int, ...]:
        """Pipeline shape of a target for an image of ``shape[:2]``."""
        h, w = int(shape[0]), int(shape[1])
        return (h, w) if self.gt_channels == 1 else (h, w, self.gt_channels)

    def invalid_target(self, shape: Sequence[int]) -> np.ndarray:
        """An all-invalid target for an image of ``shape[:2]`` (``uint8``
        label maps, ``float32`` float maps)."""
        dtype = np.float32 if self.is_float else np.uint8
        return np.full(self.target_shape(shape), self.invalid_value, dtype=dtype)

    def has_valid_pixels(self, target: np.ndarray) -> bool:
        """Whether ``target`` has a pixel that is not invalid."""
        return bool(np.any(np.asarray(target) != self.invalid_value))

    def flip_signs(self, direction: str) -> Optional[Tuple[float, ...]]:
        """Per-channel signs a flip in ``direction`` applies to the values
        (the pixels are mirrored by the transform), or ``None`` when values
        do not change (label and scalar maps)."""
        return None

    def flip_target(self, target: np.ndarray, direction: str) -> np.ndarray:
        """Apply :meth:`flip_signs` to a mirrored pipeline target
        (``(H, W, C)``)."""
        signs = self.flip_signs(direction)
        if signs is None:
            return target
        out = np.asarray(target, dtype=np.float32) * np.asarray(signs, dtype=np.float32)
        out[out == 0] = 0.0  # no negative zeros
        return out

    def unflip_output(self, out: Tensor, direction: str) -> Tensor:
        """Apply :meth:`flip_signs` to a mirrored ``(B, C, H, W)`` output."""
        signs = self.flip_signs(direction)
        if signs is None:
            return out
        return out * out.new_tensor(signs).view(1, -1, 1, 1)

    def after_resize(self, resized: np.ndarray, source: np.ndarray, interpolation: str,
                     backend: Optional[str] = None) -> np.ndarray:
        """Repair a target resized by nearest-neighbour interpolation (e.g.
        re-normalise vectors); ``interpolation`` is the smooth interpolation
        a task may use instead. Default: unchanged."""
        return resized

    def pack(self, target: Any, where: str = '') -> Tensor:
        """Pipeline target -> the data-sample tensor ``(C, H, W)``
        (``int64`` labels or ``float32``).

        Raises:
            ValueError: the target has the wrong shape (names ``where``).
        """
        arr = np.asarray(target)
        if self.gt_channels == 1 and arr.ndim == 3 and arr.shape[-1] == 1:
            arr = arr[..., 0]
        if self.gt_channels == 1 and arr.ndim == 2:
            arr = arr[..., None]
        if arr.ndim != 3 or arr.shape[-1] != self.gt_channels:
            layout = '(H, W)' if self.gt_channels == 1 else f'(H, W, {self.gt_channels})'
            raise ValueError(f'{self.results_key} must be {layout}, got {arr.shape} {where}')
        dtype = np.float32 if self.is_float else np.int64
        return torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1), dtype=dtype))

    # ----------------------------------------------------------------- model
    def check_channels(self, channels: int, where: str = '') -> int:
        """Validate the head's output channels for this task.

        Raises:
            ValueError: naming the task, ``where`` and the expected count.
        """
        if self.channels_are_classes:
            if int(channels) < 2:
                raise ValueError(f'{where}: task {self.name!r} needs >= 2 classes, got '
                                 f'{channels}')
        elif int(channels) != self.gt_channels:
            raise ValueError(f'{where}: task {self.name!r} needs {self.gt_channels} output '
                             f'channel(s), got {channels}')
        return int(channels)

    def activate(self, raw: Tensor) -> Tensor:
        """Raw head output -> the task's output space (default: unchanged)."""
        return raw

    def to_prediction(self, out: Tensor) -> Tensor:
        """Activated output ``(..., C, H, W)`` -> the data-sample prediction
        (default: unchanged)."""
        return out

    def random_target(self, channels: int, shape: Sequence[int],
                      generator: Optional[torch.Generator] = None) -> Tensor:
        """A random valid packed target ``(C, H, W)`` for an output of
        ``channels`` (benchmarks and smoke tests)."""
        raise NotImplementedError(f'{type(self).__name__} has no random targets')

    # ------------------------------------------------------------ evaluation
    def valid_mask(self, gt: Tensor) -> Tensor:
        """Per-pixel validity ``(..., H, W)`` of a packed ``(..., C, H, W)``
        ground truth."""
        return (gt != self.invalid_value).all(dim=-3)

    def constant_statistics(self, gt: Tensor) -> Any:
        """Small statistics of one packed ground truth for the trivial
        constant predictor (see :meth:`constant_from_statistics`)."""
        raise NotImplementedError(f'{type(self).__name__} has no trivial predictor')

    def constant_from_statistics(self, stats: List[Any]) -> Optional[np.ndarray]:
        """The trivial predictor's constant from every sample's statistics,
        or ``None`` when no sample has a valid pixel."""
        raise NotImplementedError(f'{type(self).__name__} has no trivial predictor')

    def constant_prediction(self, value: np.ndarray, shape: Sequence[int]) -> Tensor:
        """A data-sample prediction of size ``shape[-2:]`` holding ``value``."""
        h, w = int(shape[-2]), int(shape[-1])
        value = torch.as_tensor(np.asarray(value), dtype=torch.float32).reshape(-1, 1, 1)
        return value.expand(value.shape[0], h, w).clone()

    # --------------------------------------------------------------- drawing
    def value_range(self, gt: Optional[np.ndarray],
                    pred: Optional[np.ndarray]) -> Optional[Tuple[float, float]]:
        """Colour-map range of a row of the visualiser (shown with a colour
        bar), or ``None`` for tasks drawn without a range."""
        return None

    def draw(self, visualizer, data: np.ndarray, image: np.ndarray,
             vrange: Optional[Tuple[float, float]] = None) -> np.ndarray:
        """Draw a map in the data-sample layout ``(C, H, W)`` as an
        ``(H, W, 3)`` RGB picture with the visualiser's public primitives."""
        raise NotImplementedError(f'{type(self).__name__} cannot be drawn')

    def __repr__(self) -> str:
        return f'{type(self).__name__}(name={self.name!r})'
