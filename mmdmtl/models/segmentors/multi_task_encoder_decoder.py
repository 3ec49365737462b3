"""Encoder-decoder segmentor for multi-task dense prediction."""
from typing import Dict, List, Optional

import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmengine.structures import PixelData
from mmseg.models.segmentors import EncoderDecoder
from mmseg.models.utils import resize
from mmseg.utils import ConfigType, OptConfigType, OptMultiConfig, OptSampleList, SampleList
from torch import Tensor

from mmdmtl.registry import MODELS
from mmdmtl.structures import MTLDataSample, get_task

from ..utils import to_prediction


@MODELS.register_module()
class MultiTaskEncoderDecoder(EncoderDecoder):
    """Backbone (+ neck) + multi-task decode head, mmseg style.

    Works with any mmseg backbone and with :class:`MTLBaselineHead` /
    :class:`DiffusionMTLHead` (anything with their ``loss`` / ``predict``
    interface and a ``task_names`` attribute).

    * ``mode='loss'``: the head's partial-label losses, prefixed
      ``decode.`` (``decode.loss_semseg``, ``decode.loss_depth_init``, ...).
    * ``mode='predict'``: whole or slide inference (``test_cfg=dict(
      mode='slide', crop_size=(h, w), stride=(h, w))``, overlapping windows
      averaged for every task), then every task's prediction is un-padded,
      un-flipped (normals also get the flipped component negated), resized
      bilinearly to ``ori_shape`` and written into the data sample:
      ``pred_sem_seg`` + ``seg_logits``, ``pred_parts_map``,
      ``pred_sal_map`` / ``pred_edge_map`` (sigmoid probabilities),
      ``pred_depth_map`` (metres), ``pred_normal_map`` (unit vectors).
    * ``mode='tensor'``: ``{task: (B, C, H, W)}`` activated outputs at the
      input size (logits, metres, raw normals).

    Example:
        >>> model = dict(type='MultiTaskEncoderDecoder',
        ...              data_preprocessor=dict(type='MTLDataPreProcessor', ...),
        ...              backbone=dict(type='ResNetV1c', depth=18, ...),
        ...              decode_head=dict(type='DiffusionMTLHead', ...),
        ...              test_cfg=dict(mode='whole'))
    """

    def __init__(self, backbone: ConfigType, decode_head: dict,
                 neck: OptConfigType = None, auxiliary_head: OptConfigType = None,
                 train_cfg: OptConfigType = None, test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None, pretrained: Optional[str] = None,
                 init_cfg: OptMultiConfig = None) -> None:
        if auxiliary_head is not None:
            raise ValueError('MultiTaskEncoderDecoder does not support auxiliary_head')
        super().__init__(backbone=backbone, decode_head=decode_head, neck=neck,
                         auxiliary_head=None, train_cfg=ConfigDict(train_cfg or {}),
                         test_cfg=ConfigDict(test_cfg or dict(mode='whole')),
                         data_preprocessor=data_preprocessor, pretrained=pretrained,
                         init_cfg=init_cfg)

    def _init_decode_head(self, decode_head: dict) -> None:
        self.decode_head = MODELS.build(decode_head)
        if not hasattr(self.decode_head, 'task_names'):
            raise TypeError(f'{type(self.decode_head).__name__} is not a multi-task head '
                            '(no task_names attribute)')
        self.align_corners = self.decode_head.align_corners
        self.num_classes = self.decode_head.num_classes
        self.out_channels = self.decode_head.out_channels

    @property
    def task_names(self):
        """Tasks predicted by the model, in head order."""
        return self.decode_head.task_names

    # ---------------------------------------------------------------- training
    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """Partial-label multi-task losses (``decode.loss_<task>[_init]``)."""
        x = self.extract_feat(inputs)
        return self._decode_head_forward_train(x, data_samples)

    # --------------------------------------------------------------- inference
    def encode_decode(self, inputs: Tensor, batch_img_metas: List[dict]) -> Dict[str, Tensor]:
        """``{task: (B, C, H, W)}`` activated outputs at the input size."""
        x = self.extract_feat(inputs)
        return self.decode_head.predict(x, batch_img_metas, self.test_cfg,
                                        size=inputs.shape[2:])

    def slide_inference(self, inputs: Tensor, batch_img_metas: List[dict]
                        ) -> Dict[str, Tensor]:
        """Sliding-window inference; overlapping windows are averaged per task."""
        h_stride, w_stride = self.test_cfg.stride
        h_crop, w_crop = self.test_cfg.crop_size
        b, _, h_img, w_img = inputs.shape
        h_grids = max(h_img - h_crop + h_stride - 1, 0) // h_stride + 1
        w_grids = max(w_img - w_crop + w_stride - 1, 0) // w_stride + 1
        preds: Dict[str, Tensor] = {}
        count = inputs.new_zeros((b, 1, h_img, w_img))
        for hi in range(h_grids):
            for wi in range(w_grids):
                y2 = min(hi * h_stride + h_crop, h_img)
                x2 = min(wi * w_stride + w_crop, w_img)
                y1, x1 = max(y2 - h_crop, 0), max(x2 - w_crop, 0)
                crop = inputs[:, :, y1:y2, x1:x2]
                out = self.encode_decode(crop, batch_img_metas)
                pad = (x1, w_img - x2, y1, h_img - y2)
                for t, v in out.items():
                    preds[t] = preds[t] + F.pad(v, pad) if t in preds else F.pad(v, pad)
                count[:, :, y1:y2, x1:x2] += 1
        return {t: v / count for t, v in preds.items()}

    def predict(self, inputs: Tensor, data_samples: OptSampleList = None) -> SampleList:
        """Predict every task and write it into the data samples."""
        if data_samples is not None:
            batch_img_metas = [s.metainfo for s in data_samples]
        else:
            shape = inputs.shape[2:]
            batch_img_metas = [
                dict(ori_shape=shape, img_shape=shape, pad_shape=shape,
                     padding_size=[0, 0, 0, 0])
            ] * inputs.shape[0]
        outs = self.inference(inputs, batch_img_metas)
        return self.postprocess_result(outs, data_samples)

    def _forward(self, inputs: Tensor, data_samples: OptSampleList = None
                 ) -> Dict[str, Tensor]:
        """``tensor`` mode: ``{task: (B, C, H, W)}`` at the input size."""
        x = self.extract_feat(inputs)
        return self.decode_head.predict(x, [], self.test_cfg, size=inputs.shape[2:])

    # ---------------------------------------------------------- post-processing
    @staticmethod
    def _unflip(task: str, out: Tensor, direction: str) -> Tensor:
        """Mirror ``out`` back and let the task undo what the flip did to its
        values (:meth:`~mmdmtl.tasks.BaseTask.unflip_output`: normals negate
        x / y)."""
        dims = dict(horizontal=(-1, ), vertical=(-2, ), diagonal=(-2, -1))
        if direction not in dims:
            raise ValueError(f'unknown flip_direction {direction!r}')
        return get_task(task).unflip_output(out.flip(dims=dims[direction]), direction)

    def postprocess_result(self, outs: Dict[str, Tensor],
                           data_samples: OptSampleList = None) -> SampleList:
        """Un-pad, un-flip, resize to ``ori_shape`` and store every task.

        Args:
            outs: ``{task: (B, C, H, W)}`` from :meth:`inference`.
            data_samples: Samples to fill (new ones when None).

        Returns:
            The filled samples.
        """
        b = next(iter(outs.values())).shape[0]
        only_prediction = data_samples is None
        if only_prediction:
            data_samples = [MTLDataSample() for _ in range(b)]
        for i in range(b):
            meta = data_samples[i].metainfo
            fields = {}
            for t, out in outs.items():
                o = out[i:i + 1]
                if not only_prediction:
                    pad = meta.get('img_padding_size', meta.get('padding_size', [0] * 4))
                    left, right, top, bottom = pad
                    h, w = o.shape[-2:]
                    o = o[:, :, top:h - bottom, left:w - right]
                    if meta.get('flip', False):
                        o = self._unflip(t, o, meta.get('flip_direction', 'horizontal'))
                    o = resize(o, size=tuple(meta['ori_shape'][:2]), mode='bilinear',
                               align_corners=self.align_corners, warning=False)
                o = o[0]
                spec = get_task(t)
                fields[spec.pred_field] = PixelData(data=to_prediction(t, o))
                if spec.logits_field:
                    fields[spec.logits_field] = PixelData(data=o)
            data_samples[i].set_data(fields)
        return data_samples


