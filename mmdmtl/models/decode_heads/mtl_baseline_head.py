"""Multi-task baseline head: shared fusion, per-task decoders and heads."""
import copy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule
from mmseg.models.backbones.resnet import BasicBlock
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.utils import resize
from torch import Tensor, nn

from mmdmtl.registry import MODELS
from mmdmtl.structures import MTLDataSample, get_task

from ..losses.partial_label_weights import partial_label_sample_weights
from ..utils import MultiLevelFusion, TwoClassLogitConv, activate_task_output, check_task_channels

#: Width presets. ``paper`` is the official ResNet-18 setting, ``lite`` a
#: small one for CPU training and tests.
HEAD_PRESETS: Dict[str, dict] = dict(
    paper=dict(embed_dims=512, num_prelim_blocks=2, head_channels=512, num_attn_blocks=4,
               num_heads=4, mlp_ratio=4.0, token_downsample=4, freq_dims=256),
    lite=dict(embed_dims=64, num_prelim_blocks=1, head_channels=64, num_attn_blocks=2,
              num_heads=2, mlp_ratio=2.0, token_downsample=2, freq_dims=64),
)


def task_mask_tensor(batch_data_samples: Sequence, tasks: Sequence[str],
                     device: torch.device) -> Tensor:
    """Build the (B, T) bool mask of labelled (sample, task) pairs.

    Reads ``metainfo['task_mask']`` of each sample; a task missing from it,
    or False, is unlabelled. A sample without the ``task_mask`` key counts as
    labelled for every task whose ground-truth field it carries.
    """
    rows = []
    for sample in map(MTLDataSample.wrap, batch_data_samples):
        rows.append([sample.is_labelled(t, default=False) for t in tasks])
    return torch.tensor(rows, dtype=torch.bool, device=device).reshape(len(rows), len(tasks))


def init_prediction_convs(convs: nn.ModuleDict, std: float = 0.01) -> None:
    """Initialise 1x1 prediction convs like mmseg's ``conv_seg`` (N(0, std),
    zero bias), so initial outputs start small."""
    for conv in convs.values():
        nn.init.normal_(conv.weight, std=std)
        nn.init.zeros_(conv.bias)


#: Choices of the head options that align mmdmtl with the official code.
PRED_HEAD_INITS = ('normal', 'default')
FUSION_INITS = ('kaiming', 'default')
DEPTH_ACTIVATIONS = ('softplus', 'linear')


@MODELS.register_module()
class MTLBaselineHead(BaseDecodeHead):
    """Multi-task baseline: fusion + per-task preliminary decoders + 1x1 heads.

    The backbone levels are fused into one ``embed_dims`` map at stride 8
    (:class:`MultiLevelFusion`); every task has ``num_prelim_blocks`` ResNet
    BasicBlocks and a 1x1 conv giving its prediction. No diffusion: this is
    the "MTL baseline" of the paper and, with a single task, the
    single-task baseline.

    Losses follow the official partial-label scheme: a task's loss counts
    only on samples labelled for it, each sample's losses are scaled by
    ``T / #labelled`` and divided by the batch size, and a task with no
    labelled sample in the batch gives an exact zero.

    Args:
        in_channels: Channels of the backbone / neck levels used.
        tasks: ``{task: output channels}``, e.g. ``dict(semseg=13, depth=1,
            normal=3)``.
        embed_dims: Width of the fused embedding and decoders (preset).
        num_prelim_blocks: BasicBlocks per preliminary decoder (preset).
        preset: ``'paper'`` or ``'lite'``; arguments left at None take the
            preset's value.
        in_index: Indices of the backbone outputs to use (default: all).
        fuse_scale: Fused map size relative to the first used level.
        norm_cfg: Norm of the BasicBlocks.
        fusion_norm_cfg, fusion_act_cfg: Of the fusion conv (plain conv).
        loss_decode: ``{task: loss cfg}``; missing tasks use
            each task's ``default_loss``.
        scale_by_labels: Apply the ``T / #labelled`` factor.
        align_corners: Of all bilinear resizes.
        pred_head_init: Init of the 1x1 prediction convs: ``'normal'``
            (N(0, 0.01), zero bias, as mmseg's ``conv_seg``) or
            ``'default'`` (PyTorch's default, as the official code).
        fusion_init: Init of the fusion conv: ``'kaiming'`` (``ConvModule``)
            or ``'default'`` (PyTorch's default, as the official code).
        depth_activation: ``'softplus'`` (always positive metres) or
            ``'linear'`` (raw output, as the official code).
        two_class_tasks: Binary tasks (``sal``/``edge``) predicted with two
            channels and a softmax, as the official code does for saliency
            (:class:`TwoClassLogitConv`); the others use one logit.
        init_cfg: Initialisation config.
    """

    #: Whether ``final`` refines ``init`` (then ``init`` gets its own loss).
    has_refinement = False
    initial_loss_weight = 0.0

    def __init__(self, in_channels: Sequence[int], tasks: Dict[str, int],
                 embed_dims: Optional[int] = None, num_prelim_blocks: Optional[int] = None,
                 preset: str = 'paper', in_index: Optional[Sequence[int]] = None,
                 fuse_scale: float = 0.5, norm_cfg: dict = dict(type='BN', requires_grad=True),
                 fusion_norm_cfg: Optional[dict] = None, fusion_act_cfg: Optional[dict] = None,
                 loss_decode: Optional[Dict[str, dict]] = None, scale_by_labels: bool = True,
                 align_corners: bool = False, pred_head_init: str = 'normal',
                 fusion_init: str = 'kaiming', depth_activation: str = 'softplus',
                 two_class_tasks: Sequence[str] = (),
                 init_cfg: Optional[dict] = None) -> None:
        BaseModule.__init__(self, init_cfg=init_cfg)
        name = type(self).__name__
        if preset not in HEAD_PRESETS:
            raise KeyError(f'{name}: unknown preset {preset!r}; use {sorted(HEAD_PRESETS)}')
        for key, value, choices in (('pred_head_init', pred_head_init, PRED_HEAD_INITS),
                                    ('fusion_init', fusion_init, FUSION_INITS),
                                    ('depth_activation', depth_activation,
                                     DEPTH_ACTIVATIONS)):
            if value not in choices:
                raise ValueError(f'{name}: {key} must be one of {choices}, got {value!r}')
        self.pred_head_init = pred_head_init
        self.depth_activation = depth_activation
        self.preset = preset
        self.tasks = check_task_channels(dict(tasks), where=name)
        self.task_names: Tuple[str, ...] = tuple(self.tasks)
        self.two_class_tasks = tuple(two_class_tasks)
        binary = [t for t in self.task_names if get_task(t).is_binary]
        bad = [t for t in self.two_class_tasks if t not in binary]
        if bad:
            raise ValueError(f'{name}: two_class_tasks {bad} are not binary tasks of this '
                             f'head (its binary tasks: {binary})')
        self.in_channels = list(in_channels)
        self.in_index = list(range(len(self.in_channels))) if in_index is None else list(
            in_index)
        if len(self.in_index) != len(self.in_channels):
            raise ValueError(f'{name}: in_index {self.in_index} and in_channels '
                             f'{self.in_channels} differ in length')
        self.embed_dims = self._preset('embed_dims', embed_dims)
        self.channels = self.embed_dims
        self.num_prelim_blocks = self._preset('num_prelim_blocks', num_prelim_blocks)
        self.align_corners = align_corners
        self.scale_by_labels = scale_by_labels
        # attributes mmseg's EncoderDecoder / tools read
        first = self.task_names[0]
        self.num_classes = self.tasks.get('semseg', self.tasks[first])
        self.out_channels = self.num_classes
        self.threshold = 0.5
        self.ignore_index = 255
        self.input_transform = None

        self.fusion = MultiLevelFusion(self.in_channels, self.embed_dims, scale=fuse_scale,
                                       norm_cfg=fusion_norm_cfg, act_cfg=fusion_act_cfg,
                                       align_corners=align_corners, init=fusion_init)
        self.prelim_decoders = nn.ModuleDict({
            t: nn.Sequential(*[
                BasicBlock(self.embed_dims, self.embed_dims, norm_cfg=norm_cfg)
                for _ in range(self.num_prelim_blocks)
            ]) for t in self.task_names
        })
        self.prelim_heads = self.prediction_convs()
        self.losses = self._build_losses(loss_decode)

    def prediction_convs(self) -> nn.ModuleDict:
        """``{task: 1x1 conv embed_dims -> task output}`` initialised as
        ``pred_head_init`` says (two-class convs for ``two_class_tasks``)."""
        convs = nn.ModuleDict({
            t: TwoClassLogitConv(self.embed_dims) if t in self.two_class_tasks else
            nn.Conv2d(self.embed_dims, c, 1) for t, c in self.tasks.items()})
        if self.pred_head_init == 'normal':
            init_prediction_convs(convs)
        return convs

    def activate(self, task: str, raw: Tensor) -> Tensor:
        """Raw output -> the task's output space (:func:`activate_task_output`;
        depth stays raw with ``depth_activation='linear'``)."""
        if self.depth_activation == 'linear' and get_task(task).optional_activation:
            return raw
        return activate_task_output(task, raw)


    def _preset(self, key: str, value):
        return HEAD_PRESETS[self.preset][key] if value is None else value

    def _build_losses(self, loss_decode: Optional[Dict[str, dict]]) -> nn.ModuleDict:
        loss_decode = dict(loss_decode or {})
        unknown = set(loss_decode) - set(self.task_names)
        if unknown:
            raise KeyError(f'{type(self).__name__}: loss_decode has tasks {sorted(unknown)} '
                           f'that are not in tasks {list(self.task_names)}')
        losses = nn.ModuleDict()
        for t in self.task_names:
            cfg = copy.deepcopy(loss_decode.get(t, get_task(t).default_loss))
            losses[t] = MODELS.build(cfg)
        return losses

    # ------------------------------------------------------------------ forward
    def _select_inputs(self, inputs: Sequence[Tensor]) -> List[Tensor]:
        return [inputs[i] for i in self.in_index]

    def preliminary(self, inputs: Sequence[Tensor]
                    ) -> Tuple[Dict[str, Tensor], Dict[str, Tensor]]:
        """Fuse the levels and run the preliminary decoders.

        Returns:
            ``(features, raw_predictions)``, both ``{task: (B, C, h, w)}`` at
            the fused (stride-8) resolution.
        """
        fused = self.fusion(self._select_inputs(inputs))
        feats = {t: self.prelim_decoders[t](fused) for t in self.task_names}
        preds = {t: self.prelim_heads[t](feats[t]) for t in self.task_names}
        return feats, preds

    def forward(self, inputs: Sequence[Tensor], task_mask: Optional[Tensor] = None,
                noise: Optional[Dict[str, Tensor]] = None) -> Dict[str, dict]:
        """Raw outputs at the fused resolution.

        Returns:
            ``dict(init={task: (B, C, h, w)}, final={task: (n_t, C, h, w)},
            index={task: (n_t,)})``: ``final`` holds the pairs listed in
            ``index`` (the labelled ones when ``task_mask`` is given, else
            all). For the baseline ``final`` is a gather of ``init``;
            ``noise`` is unused.
        """
        _, preds = self.preliminary(inputs)
        index = self.pair_index(task_mask, preds)
        final = {t: self._gather(preds[t], index[t]) for t in self.task_names}
        return dict(init=preds, final=final, index=index)

    def pair_index(self, task_mask: Optional[Tensor],
                   maps: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """``{task: batch indices}`` of the pairs to decode: the labelled ones
        when ``task_mask`` (B, T) is given, else every sample."""
        ref = maps[self.task_names[0]]
        if task_mask is None:
            idx = torch.arange(ref.shape[0], device=ref.device)
            return {t: idx for t in self.task_names}
        if tuple(task_mask.shape) != (ref.shape[0], len(self.task_names)):
            raise ValueError(f'{type(self).__name__}: task_mask must be (B={ref.shape[0]}, '
                             f'T={len(self.task_names)}), got {tuple(task_mask.shape)}')
        task_mask = task_mask.to(ref.device)
        return {t: task_mask[:, j].nonzero(as_tuple=True)[0]
                for j, t in enumerate(self.task_names)}

    @staticmethod
    def _gather(x: Tensor, index: Tensor) -> Tensor:
        if index.numel() == x.shape[0] and bool(
                (index == torch.arange(x.shape[0], device=index.device)).all()):
            return x
        return x.index_select(0, index)

    # ---------------------------------------------------------------- inference
    def predict(self, inputs: Sequence[Tensor], batch_img_metas: List[dict], test_cfg,
                size: Optional[Sequence[int]] = None) -> Dict[str, Tensor]:
        """Activated outputs of every task, resized to ``size``.

        Args:
            inputs: Backbone / neck features.
            batch_img_metas: Image metas (``size`` defaults to the first
                one's ``img_shape`` as mmseg's slide inference sets it, else
                its ``pad_shape``).
            test_cfg: The model's ``test_cfg``; ``output='initial'`` returns
                the preliminary decoders' (initial) predictions instead of the
                final ones (default ``'final'``), to measure what a
                refinement head adds (``tools/analyze_refinement.py``).
                ``output`` may also be a ``{task: 'final' | 'initial'}``
                dict (missing tasks: ``'final'``), e.g. to keep a task's
                initial map where the refinement does not help it on
                validation (``tools/analyze_refinement.py --split val``).
            size: Output (H, W).

        Returns:
            ``{task: (B, C, H, W)}``: logits for ``semseg``/``parts``/
            ``sal``/``edge``, metres for ``depth``, raw 3-vectors for
            ``normal``.
        """
        if size is None:
            meta = batch_img_metas[0]
            size = meta['img_shape'] if isinstance(meta['img_shape'], torch.Size) else \
                meta.get('pad_shape', meta['img_shape'])[:2]
        modes = self.output_modes((test_cfg or {}).get('output', 'final'))
        if all(m == 'initial' for m in modes.values()):
            final = self.preliminary(inputs)[1]
        else:
            outs = self.forward(inputs)
            final = {t: outs['final' if modes[t] == 'final' else 'init'][t]
                     for t in self.task_names}
        return {
            t: self.activate(
                t, resize(final[t], size=tuple(size), mode='bilinear',
                          align_corners=self.align_corners)) for t in self.task_names
        }

    def output_modes(self, output: Union[str, Dict[str, str]]) -> Dict[str, str]:
        """``{task: 'final' | 'initial'}`` from ``test_cfg.output``: one mode
        for every task, or a dict per task (missing tasks: ``'final'``).

        Raises:
            ValueError: a mode other than ``'final'``/``'initial'``, or a
                task the head does not predict (both named).
        """
        name = type(self).__name__
        per_task = dict(output) if isinstance(output, dict) else \
            {t: output for t in self.task_names}
        unknown = sorted(set(per_task) - set(self.task_names))
        if unknown:
            raise ValueError(f'{name}: test_cfg.output names {unknown}, which this head does '
                             f'not predict (tasks: {list(self.task_names)})')
        for t, m in per_task.items():
            if m not in ('final', 'initial'):
                raise ValueError(f"{name}: test_cfg.output must be 'final' or 'initial' "
                                 f"(or a dict of them per task), got {m!r} for {t}")
        return {t: per_task.get(t, 'final') for t in self.task_names}

    # --------------------------------------------------------------------- loss
    def loss(self, inputs: Sequence[Tensor], batch_data_samples: Sequence, train_cfg=None,
             noise: Optional[Dict[str, Tensor]] = None) -> Dict[str, Tensor]:
        """Forward the labelled pairs and compute the partial-label losses.

        Args:
            inputs: Backbone / neck features.
            batch_data_samples: Samples with ground truth and ``task_mask``.
            train_cfg: Unused.
            noise: Optional injected diffusion noise (see
                :class:`DiffusionMTLHead`).

        Returns:
            ``{'loss_<task>': ..., ('loss_<task>_init': ...)}``.
        """
        device = inputs[0].device
        mask = task_mask_tensor(batch_data_samples, self.task_names, device)
        outs = self.forward(inputs, task_mask=mask, noise=noise)
        return self.loss_by_feat(outs, batch_data_samples, mask)

    def _stack_targets(self, task: str, batch_data_samples: Sequence,
                       index: Tensor) -> Tensor:
        rows = []
        for i in index.tolist():
            sample = MTLDataSample.wrap(batch_data_samples[i])
            if not sample.has_gt(task):
                raise KeyError(f'{type(self).__name__}: sample {i} is labelled for task '
                               f'{task!r} but has no {get_task(task).gt_field!r} field '
                               f'(img_path={sample.metainfo.get("img_path")})')
            rows.append(sample.gt(task))
        return torch.stack(rows).to(index.device)

    def _cached_targets(self, task: str, batch_data_samples: Sequence, index: Tensor,
                        targets: Optional[Dict[tuple, Tensor]] = None) -> Tensor:
        """:meth:`_stack_targets` through ``targets``, a per-call cache keyed
        by task and sample indices (None: no cache)."""
        if targets is None:
            return self._stack_targets(task, batch_data_samples, index)
        key = (task, tuple(index.tolist()))
        if key not in targets:
            targets[key] = self._stack_targets(task, batch_data_samples, index)
        return targets[key]

    def _final_task_loss(self, task: str, pred: Tensor, batch_data_samples: Sequence,
                         index: Tensor, sample_w: Tensor,
                         targets: Optional[Dict[tuple, Tensor]] = None) -> Tensor:
        """Loss of the final prediction of ``task`` (``loss_<task>``): the task
        loss here; heads whose final output lives in another space override
        it."""
        return self._task_loss(task, pred, batch_data_samples, index, sample_w, targets)

    def _task_loss(self, task: str, pred: Tensor, batch_data_samples: Sequence,
                   index: Tensor, sample_w: Tensor,
                   targets: Optional[Dict[tuple, Tensor]] = None,
                   loss_fns: Optional[Sequence[nn.Module]] = None) -> Tensor:
        """Partial-label loss of ``pred`` (rows = samples ``index``).

        ``targets`` is a per-call cache of stacked ground truths keyed by task
        and sample indices, so the final, initial and intermediate-step losses
        of one task stack (and copy) their targets once. ``loss_fns``: the
        per-sample losses to sum (default: the task's ``loss_decode``)."""
        if index.numel() == 0:
            return pred.float().sum() * 0.0
        target = self._cached_targets(task, batch_data_samples, index, targets)
        pred = self.activate(task, resize(pred.float(), size=target.shape[-2:],
                                          mode='bilinear', align_corners=self.align_corners))
        first, *rest = loss_fns if loss_fns is not None else (self.losses[task], )
        per_sample = first(pred, target)
        for loss in rest:
            per_sample = per_sample + loss(pred, target)
        return (per_sample * sample_w.index_select(0, index)).sum()

    def loss_by_feat(self, outs: Dict[str, dict], batch_data_samples: Sequence,
                     task_mask: Tensor) -> Dict[str, Tensor]:
        """Partial-label losses from :meth:`forward` outputs.

        ``loss_<task>`` is the loss of the final prediction; heads that
        refine the initial predictions (``has_refinement``) add
        ``loss_<task>_init`` scaled by ``initial_loss_weight``.
        """
        with torch.autocast(device_type=task_mask.device.type, enabled=False):
            return self._losses_fp32(outs, batch_data_samples, task_mask)

    def _losses_fp32(self, outs: Dict[str, dict], batch_data_samples: Sequence,
                     task_mask: Tensor,
                     targets: Optional[Dict[tuple, Tensor]] = None) -> Dict[str, Tensor]:
        """:meth:`loss_by_feat` with autocast off: predictions are cast to
        fp32 and every loss is computed in fp32 under ``--amp``. ``targets``
        caches the stacked ground truths (see :meth:`_task_loss`)."""
        sample_w = partial_label_sample_weights(task_mask, self.scale_by_labels)
        sample_w = sample_w.to(task_mask.device)
        losses = {}
        init_weight = self.initial_loss_weight if self.has_refinement else 0.0
        targets = {} if targets is None else targets
        for j, t in enumerate(self.task_names):
            labelled = task_mask[:, j].nonzero(as_tuple=True)[0]
            losses[f'loss_{t}'] = self._final_task_loss(t, outs['final'][t], batch_data_samples,
                                                        outs['index'][t], sample_w, targets)
            if init_weight:
                init = outs['init'][t].index_select(0, labelled)
                losses[f'loss_{t}_init'] = init_weight * self._task_loss(
                    t, init, batch_data_samples, labelled, sample_w, targets)
        return losses
