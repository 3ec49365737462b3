"""Data preprocessor that pads every task's ground truth correctly."""
from numbers import Number
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmseg.models.data_preprocessor import SegDataPreProcessor

from mmdmtl.registry import MODELS
from mmdmtl.structures.tasks import TASKS


def _padding(shape: Tuple[int, int], target: Tuple[int, int]) -> Tuple[int, int, int, int]:
    """(left, right, top, bottom) padding that brings ``shape`` to ``target``."""
    return (0, max(target[1] - shape[1], 0), 0, max(target[0] - shape[0], 0))


def _target_size(sizes: Sequence[Tuple[int, int]], size: Optional[Sequence[int]],
                 size_divisor: Optional[int]) -> Tuple[int, int]:
    max_size = np.stack([np.asarray(s) for s in sizes]).max(0)
    if size is not None:
        max_size = np.maximum(max_size, np.asarray(size[-2:]))
    if size_divisor is not None and size_divisor > 1:
        max_size = (max_size + size_divisor - 1) // size_divisor * size_divisor
    return int(max_size[0]), int(max_size[1])


@MODELS.register_module()
class MTLDataPreProcessor(SegDataPreProcessor):
    """``SegDataPreProcessor`` for multi-task samples.

    Normalisation and BGR -> RGB conversion as in mmseg. This is the only
    place where training samples are padded (as in mmseg 1.x; pipelines
    need no pad transform): images are padded (bottom / right) to a common
    size: ``size`` if given (set it to the pipeline's crop size; images
    larger than it keep their size and the batch is padded to the largest),
    else the largest in the batch, rounded up to ``size_divisor``. Every
    task's ground truth (``gt_sem_seg``, ``gt_parts_map``, ``gt_sal_map``,
    ``gt_edge_map``, ``gt_depth_map``, ``gt_normal_map``, and those of
    registered custom tasks) is padded with that task's ``pad_value`` (255,
    depth 0, normals 0) -- unlike mmseg's ``stack_batch``, which pads depth
    with 255 and ignores other fields.

    Images are padded with ``pad_val`` after normalisation as mmseg does
    (0 is then the mean colour). With ``pad_raw_in_training=True`` training
    images are padded *before* normalisation (pixel value 0 is black),
    exactly what the former ``MTLPad`` pipeline step gave; the shipped
    configs set it, so their training is unchanged by moving the padding
    here. ``img_shape``,
    ``pad_shape`` and ``padding_size`` are set in each sample's metainfo
    like mmseg does.

    At test time images are padded only when ``test_cfg`` gives ``size`` or
    ``size_divisor``, or when the batch mixes sizes (then to the largest);
    ``padding_size`` is recorded so the segmentor can crop predictions. Test
    ground truth is left at its original size.

    Example:
        >>> data_preprocessor = dict(
        ...     type='MTLDataPreProcessor', mean=[123.675, 116.28, 103.53],
        ...     std=[58.395, 57.12, 57.375], bgr_to_rgb=True,
        ...     size_divisor=32)

    Args:
        mean, std, size, size_divisor, pad_val, bgr_to_rgb, rgb_to_bgr,
        batch_augments, test_cfg: As ``SegDataPreProcessor``. Unlike it,
            ``size`` and ``size_divisor`` may both be unset (pad to the
            batch maximum).
        seg_pad_val: Kept for compatibility; targets use their task's
            pad value.
        pad_raw_in_training: Pad training images with ``pad_val`` before
            normalisation (True, as the former ``MTLPad``) or after it
            (False, as mmseg). Test-time padding is always after
            normalisation, as before.
    """

    def __init__(self,
                 mean: Sequence[Number] = None,
                 std: Sequence[Number] = None,
                 size: Optional[tuple] = None,
                 size_divisor: Optional[int] = None,
                 pad_val: Number = 0,
                 seg_pad_val: Number = 255,
                 bgr_to_rgb: bool = False,
                 rgb_to_bgr: bool = False,
                 batch_augments: Optional[List[dict]] = None,
                 test_cfg: Optional[dict] = None,
                 pad_raw_in_training: bool = False) -> None:
        super().__init__(mean=mean, std=std, size=size, size_divisor=size_divisor,
                         pad_val=pad_val, seg_pad_val=seg_pad_val, bgr_to_rgb=bgr_to_rgb,
                         rgb_to_bgr=rgb_to_bgr, batch_augments=batch_augments,
                         test_cfg=test_cfg)
        self.pad_raw_in_training = pad_raw_in_training

    def _normalize(self, inputs: List[torch.Tensor]) -> List[torch.Tensor]:
        if not self._enable_normalize:
            return inputs
        return [(x - self.mean) / self.std for x in inputs]

    def _pad_inputs(self, inputs: List[torch.Tensor], size, size_divisor
                    ) -> Tuple[torch.Tensor, List[Tuple[int, int, int, int]]]:
        sizes = [tuple(t.shape[-2:]) for t in inputs]
        target = _target_size(sizes, size, size_divisor)
        pads = [_padding(s, target) for s in sizes]
        batch = torch.stack([
            F.pad(t, p, value=self.pad_val) if any(p) else t
            for t, p in zip(inputs, pads)
        ], dim=0)
        return batch, pads

    @staticmethod
    def _pad_targets(data_sample, pad: Tuple[int, int, int, int]) -> None:
        for spec in TASKS.values():
            if spec.gt_field not in data_sample:
                continue
            field = getattr(data_sample, spec.gt_field)
            data = field.data
            if any(pad):
                data = F.pad(data, pad, value=spec.pad_value)
            del field.data
            field.data = data

    def forward(self, data: dict, training: bool = False) -> Dict[str, Any]:
        """Normalise, convert colour, pad and stack a batch.

        Args:
            data: ``dict(inputs=[CHW tensors], data_samples=[...])`` from the
                dataloader.
            training: Whether the batch is for training.

        Returns:
            ``dict(inputs=NCHW float tensor, data_samples=list)``.
        """
        data = self.cast_data(data)  # type: ignore
        inputs = data['inputs']
        data_samples = data.get('data_samples', None)
        if self.channel_conversion and inputs[0].size(0) == 3:
            inputs = [x[[2, 1, 0], ...] for x in inputs]
        inputs = [x.float() for x in inputs]
        if training:
            if data_samples is None:
                raise ValueError('MTLDataPreProcessor: data_samples are required '
                                 'in training')
            if self.pad_raw_in_training:
                batch, pads = self._pad_inputs(inputs, self.size, self.size_divisor)
                if self._enable_normalize:
                    batch = (batch - self.mean) / self.std
            else:
                inputs = self._normalize(inputs)
                batch, pads = self._pad_inputs(inputs, self.size, self.size_divisor)
            for x, sample, pad in zip(inputs, data_samples, pads):
                self._pad_targets(sample, pad)
                sample.set_metainfo({
                    'img_shape': tuple(x.shape[-2:]),
                    'pad_shape': tuple(batch.shape[-2:]),
                    'padding_size': pad,
                })
            if self.batch_augments is not None:
                batch, data_samples = self.batch_augments(batch, data_samples)
            return dict(inputs=batch, data_samples=data_samples)

        inputs = self._normalize(inputs)
        cfg = self.test_cfg or {}
        size, divisor = cfg.get('size'), cfg.get('size_divisor')
        same = len({tuple(x.shape[-2:]) for x in inputs}) == 1
        if size is None and divisor is None and same:
            return dict(inputs=torch.stack(inputs, dim=0), data_samples=data_samples)
        batch, pads = self._pad_inputs(inputs, size, divisor)
        if data_samples is not None:
            for x, sample, pad in zip(inputs, data_samples, pads):
                sample.set_metainfo({
                    'img_shape': tuple(x.shape[-2:]),
                    'pad_shape': tuple(batch.shape[-2:]),
                    'padding_size': pad,
                    'img_padding_size': pad,  # the key mmseg sets at test time
                })
        return dict(inputs=batch, data_samples=data_samples)
