"""DiffusionMTL decode head: multi-task denoising diffusion of initial maps."""
from typing import Callable, Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmseg.models.utils import resize
from torch import Tensor, nn

from mmdmtl.registry import MODELS

from ..losses.partial_label_weights import partial_label_sample_weights
from ..utils import DiffusionScheduler, MultiTaskDenoiser
from .mtl_baseline_head import MTLBaselineHead

NoiseType = Union[Dict[str, Tensor], Callable[[str, int, Tensor, Tensor], Tensor]]


@MODELS.register_module()
class DiffusionMTLHead(MTLBaselineHead):
    """DiffusionMTL (Ye & Xu, CVPR 2024): denoise the preliminary maps.

    On top of :class:`MTLBaselineHead` (fusion, per-task preliminary
    decoders and 1x1 heads giving the *initial* predictions):

    * ``variant='feature'`` noises and denoises each task's preliminary
      *features* (``embed_dims`` channels); ``'prediction'`` its initial
      *prediction map* (raw, pre-activation).
    * The chain starts from the initial map noised to step ``T - 1``
      (:meth:`DiffusionScheduler.start_state`), not from pure noise.
      Steps ``t = T-1 ... 1`` predict :math:`\\hat x_0` with the
      :class:`MultiTaskDenoiser` and sample the DDPM posterior; step 0's
      denoiser output goes through the task's final 1x1 head and is the
      prediction. ``T`` denoiser calls, in training and inference alike.
      In the prediction variant the final head is applied at every step (the
      chain lives in prediction space).
    * Multi-task conditioning: all tasks' initial predictions, detached and
      concatenated, are projected by a 3x3 conv to ``embed_dims`` and
      condition every task's denoiser through cross-attention.
      ``use_task_conditioning=False`` (ablation "w/o Multi-Task Cond")
      drops the projection and uses self-attention blocks over the noisy
      task tokens instead.
    * ``use_diffusion=False`` (ablation "w/o Diffusion") keeps the same
      modules and steps but adds no noise and uses the previous
      :math:`\\hat x_0` as the next input (plain iterative refinement).
    * Training denoises only the labelled (sample, task) pairs; inference
      all. All pairs of all tasks go through the shared denoiser layers as
      one batch.

    Noise: by default drawn with ``torch.randn_like`` (follows the global
    seed). ``test_noise='random'`` (default, as the official code) also
    noises at inference, so predictions are stochastic; ``'none'`` makes
    inference deterministic: no noise is drawn, the chain starts from the
    clean map ``x0`` itself and every step takes the posterior mean, so it
    costs the ``T`` denoiser passes and nothing else.
    For tests, :meth:`forward` / :meth:`loss` accept ``noise``: either
    ``{task: (T, B, C, h, w)}`` (slot 0 is the start noise, slot ``k`` the
    posterior noise of step ``t = T - k``; rows are indexed by batch
    position) or a callable ``(task, slot, ref, index) -> Tensor`` shaped
    like ``ref``.

    Refinement parameterisation (``refine_mode``):

    * ``'direct'`` (the paper / official code): every step predicts
      :math:`\\hat x_0` from scratch -- the prediction variant's
      :math:`\\hat x_0` is ``final_head(h)``, the feature variant's the
      conv stack's (ReLU) output ``h``.
    * ``'residual'``: every step predicts a *correction* of its input,
      :math:`\\hat x_0 = x_t + \\Delta`. Prediction variant:
      ``Delta = final_head(h)`` with a zero-initialised ``final_head``;
      feature variant: ``Delta`` is the conv stack's output, without its
      last ReLU and with its last conv zero-initialised, and (by default,
      ``share_final_head``) the final 1x1 heads *are* the preliminary heads.
      At initialisation the refined output therefore equals its (noised)
      input, and a zero correction reproduces the initial prediction up to
      the injected noise: the refinement starts from, and can only be
      trained away from, the initial prediction.
    * ``'anchored'``: every step predicts a correction of the *clean start
      map* (the initial prediction or feature, before any noise),
      :math:`\\hat x_0 = x_{start} + \\Delta(x_t, t, \\mathrm{cond})`,
      with the same zero-initialised correction as ``'residual'``. The
      noisy state :math:`x_t` is only the denoiser's *input*; the identity
      path never carries noise, so a zero correction gives back the
      initial prediction exactly, in training and inference, with or
      without test noise. Equivalently, the chain diffuses the correction
      :math:`x_0 - x_{start}`. Combined with ``detach_start`` (the
      preliminary decoders are then trained by their own loss only), the
      refinement must earn every change it makes to its input.

    Extra training signals (off by default, the official code uses neither):
    ``step_loss_weight`` supervises every intermediate :math:`\\hat x_0`
    (the feature variant's through the final head) with the task loss
    (``loss_<task>_steps``, mean over steps); ``denoise_loss_weight`` adds
    the official (unused) ``p_losses`` form, an MSE between each step's
    :math:`\\hat x_0` and the clean start map (detached)
    (``loss_<task>_denoise``). ``detach_start`` cuts the gradient of the
    refined loss into the preliminary decoders through the start state.

    Stage-wise training (``freeze_initial=True``): the fusion, the
    preliminary decoders and their 1x1 heads are frozen (no gradients, batch
    norms in eval mode), e.g. loaded from a trained MTL baseline with
    ``load_from``, and only the refinement learns. Freeze the backbone with
    its own options (mmseg ResNets: ``frozen_stages=4, norm_eval=True``).
    The refinement then chases a fixed first stage instead of a moving one
    (``docs/en/refinement.md``).

    Semseg representation (``semseg_repr``, prediction variant only):

    * ``'logits'`` (default, the official form): the semseg chain noises and
      refines the raw class logits; the refined output gets the configured
      semseg loss (cross-entropy).
    * ``'softmax'``: the chain lives in the class simplex scaled to
      ``[-1, 1]``, as diffusion models for discrete data do: the start map is
      ``2 * softmax(initial logits) - 1`` and the refined output is trained
      towards the one-hot ground truth scaled the same way
      (``2 * one_hot - 1``) with a squared error summed over classes and
      averaged over the sample's valid pixels (times the semseg loss's
      ``loss_weight``; the initial logits keep their cross-entropy). The
      refined semseg output is then a score map in that space (its argmax is
      the class), not logits. The conditioning still sees the initial
      logits.

    Extra information for the refinement (off by default):
    ``refine_scale`` runs the chain at that multiple of the fused
    resolution (the start maps are upsampled bilinearly; the refined
    output has that resolution) and ``guide_level`` adds, to every pair's
    embedded denoiser input, a 1x1 projection of that backbone level
    (an index into the used levels, e.g. ``0`` = stride 4 for ResNets),
    resized to the chain's resolution: detail that the stride-8 fused map
    of the preliminary decoders has lost.

    Args:
        variant: ``'feature'`` or ``'prediction'``.
        num_timesteps: Diffusion steps ``T``.
        beta_start, beta_end: Of the linear-in-sqrt(beta) schedule.
        use_task_conditioning: Multi-task conditioning (see above).
        use_diffusion: Diffusion (True) or plain iterative refinement.
        initial_loss_weight: Weight of the initial predictions' loss.
        num_attn_blocks, num_heads, mlp_ratio, token_downsample,
        head_channels, freq_dims: Denoiser sizes (None: from ``preset``).
        test_noise: ``'random'`` or ``'none'``.
        refine_mode: ``'direct'``, ``'residual'`` or ``'anchored'`` (see
            above).
        share_final_head: Feature variant: use the preliminary 1x1 heads as
            the final heads (None: True with ``'residual'``, else False).
        step_loss_weight: Weight of the intermediate-step task losses.
        denoise_loss_weight: Weight of the ``p_losses``-style MSE.
        detach_start: Detach the chain's clean start map.
        semseg_repr: ``'logits'`` or ``'softmax'`` (see above).
        refine_scale: Chain resolution relative to the fused map (> 0).
        guide_level: Backbone level (index into the used levels) that
            guides the denoiser, or None.
        freeze_initial: Freeze the fusion and the preliminary decoders and
            heads (stage-wise training, see above).
        refine_loss_decode: ``{task: loss cfg or list of loss cfgs}``: the
            loss of the *refined* prediction of these tasks (summed when a
            list), in place of the task's loss; the initial predictions keep
            ``loss_decode``. E.g. ``dict(semseg=[dict(type='MTLCrossEntropyLoss'),
            dict(type='MTLLovaszLoss')])`` adds an IoU surrogate for the
            refinement. Per-sample losses, as ``loss_decode``'s.
        timestep_bias_init: ``'zeros'`` or ``'default'`` (official) biases
            of the timestep MLP.
        cond_proj_init: Init of the conditioning projection: ``'default'``
            (PyTorch's) or ``'kaiming'`` (kaiming-normal fan-out, zero bias,
            as the official code).
        **kwargs: :class:`MTLBaselineHead` arguments (``in_channels``,
            ``tasks``, ``embed_dims``, ``preset``, ``loss_decode`` ...).

    Example:
        >>> head = dict(type='DiffusionMTLHead', in_channels=[64, 128, 256, 512],
        ...             tasks=dict(semseg=13, depth=1, normal=3),
        ...             variant='feature', num_timesteps=2, preset='paper')
    """

    has_refinement = True

    def __init__(self, *, variant: str = 'feature', num_timesteps: int = 2,
                 beta_start: float = 1e-3, beta_end: float = 1e-2,
                 use_task_conditioning: bool = True, use_diffusion: bool = True,
                 initial_loss_weight: float = 0.5, num_attn_blocks: Optional[int] = None,
                 num_heads: Optional[int] = None, mlp_ratio: Optional[float] = None,
                 token_downsample: Optional[int] = None, head_channels: Optional[int] = None,
                 freq_dims: Optional[int] = None, test_noise: str = 'random',
                 refine_mode: str = 'direct', share_final_head: Optional[bool] = None,
                 step_loss_weight: float = 0.0, denoise_loss_weight: float = 0.0,
                 detach_start: bool = False, timestep_bias_init: str = 'zeros',
                 cond_proj_init: str = 'default', semseg_repr: str = 'logits',
                 refine_scale: float = 1.0, guide_level: Optional[int] = None,
                 freeze_initial: bool = False,
                 refine_loss_decode: Optional[Dict[str, Union[dict, list]]] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        name = type(self).__name__
        if variant not in ('feature', 'prediction'):
            raise ValueError(f'{name}: variant must be feature or prediction, got {variant!r}')
        if test_noise not in ('random', 'none'):
            raise ValueError(f'{name}: test_noise must be random or none, got {test_noise!r}')
        if refine_mode not in ('direct', 'residual', 'anchored'):
            raise ValueError(f'{name}: refine_mode must be direct, residual or anchored, '
                             f'got {refine_mode!r}')
        if cond_proj_init not in ('default', 'kaiming'):
            raise ValueError(f'{name}: cond_proj_init must be default or kaiming, '
                             f'got {cond_proj_init!r}')
        if share_final_head is None:
            share_final_head = refine_mode != 'direct' and variant == 'feature'
        if share_final_head and variant != 'feature':
            raise ValueError(f'{name}: share_final_head needs variant=feature (the '
                             'prediction variant has no feature-to-prediction final head '
                             'to share)')
        if semseg_repr not in ('logits', 'softmax'):
            raise ValueError(f'{name}: semseg_repr must be logits or softmax, '
                             f'got {semseg_repr!r}')
        if semseg_repr != 'logits' and (variant != 'prediction' or 'semseg' not in self.tasks):
            raise ValueError(f'{name}: semseg_repr={semseg_repr!r} needs variant=prediction '
                             f'and a semseg task (got variant={variant!r}, tasks '
                             f'{list(self.tasks)})')
        if not refine_scale > 0:
            raise ValueError(f'{name}: refine_scale must be > 0, got {refine_scale}')
        if guide_level is not None and not 0 <= guide_level < len(self.in_channels):
            raise ValueError(f'{name}: guide_level must index the used levels '
                             f'(0..{len(self.in_channels) - 1}), got {guide_level}')
        for key, value in (('step_loss_weight', step_loss_weight),
                           ('denoise_loss_weight', denoise_loss_weight)):
            if value < 0:
                raise ValueError(f'{name}: {key} must be >= 0, got {value}')
        self.variant = variant
        self.refine_mode = refine_mode
        #: the step output is a correction (of x_t, or of the clean start)
        self.residual = refine_mode in ('residual', 'anchored')
        self.anchored = refine_mode == 'anchored'
        self.share_final_head = bool(share_final_head)
        self.step_loss_weight = float(step_loss_weight)
        self.denoise_loss_weight = float(denoise_loss_weight)
        self.detach_start = detach_start
        self.semseg_repr = semseg_repr
        #: tasks whose chain lives in the scaled class simplex (``semseg_repr``)
        self.simplex_tasks: Tuple[str, ...] = ('semseg',) if semseg_repr == 'softmax' else ()
        self.refine_scale = float(refine_scale)
        self.guide_level = guide_level
        self.use_task_conditioning = use_task_conditioning
        self.use_diffusion = use_diffusion
        self.initial_loss_weight = initial_loss_weight
        self.test_noise = test_noise
        self.scheduler = DiffusionScheduler(num_timesteps, beta_start, beta_end)
        self.num_timesteps = self.scheduler.num_timesteps
        e = self.embed_dims
        in_ch = {t: (e if variant == 'feature' else c) for t, c in self.tasks.items()}
        self.denoiser = MultiTaskDenoiser(
            in_ch, embed_dims=e, head_channels=self._preset('head_channels', head_channels),
            num_blocks=self._preset('num_attn_blocks', num_attn_blocks),
            num_heads=self._preset('num_heads', num_heads),
            mlp_ratio=self._preset('mlp_ratio', mlp_ratio),
            token_downsample=self._preset('token_downsample', token_downsample),
            use_conditioning=use_task_conditioning,
            freq_dims=self._preset('freq_dims', freq_dims),
            correction_output=self.residual and variant == 'feature',
            timestep_bias_init=timestep_bias_init)
        self.cond_proj = nn.Conv2d(sum(self.tasks.values()), e, 3, padding=1) \
            if use_task_conditioning else None
        if self.cond_proj is not None and cond_proj_init == 'kaiming':
            nn.init.kaiming_normal_(self.cond_proj.weight, mode='fan_out', nonlinearity='relu')
            nn.init.zeros_(self.cond_proj.bias)
        if self.share_final_head:
            self.final_heads = self.prelim_heads
        else:
            self.final_heads = self.prediction_convs()
            if self.residual:  # prediction variant: the correction starts at 0
                for conv in self.final_heads.values():
                    nn.init.zeros_(conv.weight)
                    nn.init.zeros_(conv.bias)
        # built last, so the default head's initialisation is unchanged
        self.guide_proj = None if guide_level is None else nn.Conv2d(
            self.in_channels[guide_level], e, 1)
        self.freeze_initial = bool(freeze_initial)
        self.refine_losses = nn.ModuleDict()
        for task, cfgs in (refine_loss_decode or {}).items():
            if task not in self.tasks:
                raise ValueError(f'{name}: refine_loss_decode names {task!r}, which is not '
                                 f'one of the tasks {list(self.tasks)}')
            if task in self.simplex_tasks:
                raise ValueError(f'{name}: refine_loss_decode cannot replace the {task} '
                                 "loss of semseg_repr='softmax' (its refined output is "
                                 'not logits)')
            cfgs = [cfgs] if isinstance(cfgs, dict) else list(cfgs)
            if not cfgs:
                raise ValueError(f'{name}: refine_loss_decode[{task!r}] is empty')
            self.refine_losses[task] = nn.ModuleList(MODELS.build(c) for c in cfgs)
        if self.freeze_initial:
            for module in self.initial_stage():
                module.requires_grad_(False)

    def initial_stage(self) -> Tuple[nn.Module, ...]:
        """The modules that make the initial predictions (fusion,
        preliminary decoders, preliminary heads)."""
        return (self.fusion, self.prelim_decoders, self.prelim_heads)

    def train(self, mode: bool = True) -> 'DiffusionMTLHead':
        """Set the training mode; with ``freeze_initial`` the initial stage
        stays in eval mode (fixed batch-norm statistics)."""
        super().train(mode)
        if self.freeze_initial:
            for module in self.initial_stage():
                module.eval()
        return self

    # ------------------------------------------------------------------ noise
    def _noise(self, task: str, slot: int, ref: Tensor, index: Tensor,
               noise: Optional[NoiseType]) -> Optional[Tensor]:
        """Noise for ``slot`` of ``task``'s chain (None = no noise)."""
        if not self.use_diffusion:
            return None
        if noise is not None:
            if callable(noise):
                out = noise(task, slot, ref, index)
            else:
                out = noise[task][slot].to(ref.device).index_select(0, index)
            if out.shape != ref.shape:
                raise ValueError(f'{type(self).__name__}: injected noise for {task!r} slot '
                                 f'{slot} has shape {tuple(out.shape)}, expected '
                                 f'{tuple(ref.shape)}')
            return out
        if not self.training and self.test_noise == 'none':
            return None
        return torch.randn_like(ref)

    def noise_shapes(self, batch_size: int, fused_hw: Sequence[int]) -> Dict[str, tuple]:
        """Shapes ``{task: (T, B, C, h, w)}`` of an injectable noise dict
        (``fused_hw``: the fused map's size; the chain's is scaled by
        ``refine_scale``)."""
        hw = self.chain_size(fused_hw)
        return {
            t: (self.num_timesteps, batch_size,
                self.embed_dims if self.variant == 'feature' else c, *hw)
            for t, c in self.tasks.items()
        }

    def chain_size(self, fused_hw: Sequence[int]) -> Tuple[int, int]:
        """(h, w) of the chain for a fused map of size ``fused_hw``."""
        h, w = (int(v) for v in fused_hw)
        if self.refine_scale == 1.0:
            return h, w
        return max(1, round(h * self.refine_scale)), max(1, round(w * self.refine_scale))

    # ---------------------------------------------------- chain representation
    def to_chain_space(self, task: str, start: Tensor) -> Tensor:
        """The clean start map of ``task``'s chain: ``start`` (features or raw
        initial prediction), as ``2 * softmax - 1`` for semseg with
        ``semseg_repr='softmax'``, resized to the chain's resolution."""
        if task in self.simplex_tasks:
            start = 2.0 * start.float().softmax(dim=1) - 1.0
        size = self.chain_size(start.shape[-2:])
        if tuple(start.shape[-2:]) != size:
            start = resize(start, size=size, mode='bilinear', align_corners=self.align_corners)
        return start

    def guide_map(self, inputs: Sequence[Tensor], size: Sequence[int]) -> Optional[Tensor]:
        """(B, embed_dims, h, w) projection of the ``guide_level`` backbone
        level at the chain's resolution (None without ``guide_level``)."""
        if self.guide_proj is None:
            return None
        level = self._select_inputs(inputs)[self.guide_level]
        if tuple(level.shape[-2:]) != tuple(size):
            level = resize(level, size=tuple(size), mode='bilinear',
                           align_corners=self.align_corners)
        return self.guide_proj(level)

    # ------------------------------------------------------------------ chain
    def condition_tokens(self, init_preds: Dict[str, Tensor]) -> Optional[Tensor]:
        """(B, L, embed_dims) conditioning tokens from the detached initial
        predictions (None without conditioning)."""
        if self.cond_proj is None:
            return None
        cond = self.cond_proj(torch.cat([init_preds[t].detach() for t in self.task_names],
                                        dim=1))
        size = self.chain_size(cond.shape[-2:])
        if tuple(cond.shape[-2:]) != size:  # tokens at the chain's token grid
            cond = resize(cond, size=size, mode='bilinear', align_corners=self.align_corners)
        return self.denoiser.to_tokens(cond)

    def run_chain(self, x0: Dict[str, Tensor], index: Dict[str, Tensor],
                  cond_tokens: Optional[Tensor], noise: Optional[NoiseType] = None,
                  return_steps: bool = False, guide: Optional[Tensor] = None
                  ) -> Union[Dict[str, Tensor], Tuple[Dict[str, Tensor], Dict[str, list]]]:
        """Run the ``T``-step reverse chain for the given pairs.

        Args:
            x0: ``{task: (n_t, C, h, w)}`` clean start maps (features or raw
                initial predictions).
            index: ``{task: (n_t,)}`` batch position of each pair.
            cond_tokens: From :meth:`condition_tokens` (whole batch).
            noise: Optional injected noise (see the class docstring).
            return_steps: Also return every step's :math:`\\hat x_0`.
            guide: From :meth:`guide_map` (whole batch) or None.

        Returns:
            ``{task: (n_t, C_task, h, w)}`` raw final predictions; with
            ``return_steps`` also ``{task: [x0_hat at t = T-1, ..., 0]}`` in
            the chain's space (features or raw predictions).
        """
        tasks = [t for t in self.task_names if t in x0 and x0[t].shape[0] > 0]
        sched = self.scheduler
        x = {}
        for t in tasks:
            eps = self._noise(t, 0, x0[t], index[t], noise)
            x[t] = x0[t] if eps is None else sched.start_state(x0[t], eps)
        steps: Dict[str, list] = {t: [] for t in tasks}
        final: Dict[str, Tensor] = {}
        for step in reversed(range(self.num_timesteps)):
            h = self.denoiser(x, step, index, cond_tokens, guide)
            for t in tasks:
                # the correction's anchor: the clean start or the noisy state
                base = x0[t] if self.anchored else x[t]
                if self.variant == 'prediction':
                    out = self.final_heads[t](h[t])
                    x0_hat = base + out if self.residual else out
                else:
                    x0_hat = base + h[t] if self.residual else h[t]
                if return_steps:
                    steps[t].append(x0_hat)
                if step == 0:
                    final[t] = x0_hat if self.variant == 'prediction' else \
                        self.final_heads[t](x0_hat)
                elif self.use_diffusion:
                    z = self._noise(t, self.num_timesteps - step, x0_hat, index[t], noise)
                    x[t] = sched.posterior_step(x0_hat, x[t], step, z)
                else:
                    x[t] = x0_hat
        return (final, steps) if return_steps else final

    def forward(self, inputs: Sequence[Tensor], task_mask: Optional[Tensor] = None,
                noise: Optional[NoiseType] = None) -> Dict[str, dict]:
        """Initial and denoised raw outputs at the fused resolution.

        Args:
            inputs: Backbone / neck features.
            task_mask: (B, T) bool; only these pairs are denoised (all when
                None).
            noise: Optional injected noise.

        Returns:
            ``dict(init={task: (B, C, h, w)}, final={task: (n_t, C, h, w)},
            index={task: (n_t,)})``; in training with a step or denoise loss
            also ``steps`` and ``start`` (see :meth:`run_chain`).
        """
        feats, preds = self.preliminary(inputs)
        index = self.pair_index(task_mask, preds)
        start = feats if self.variant == 'feature' else preds
        x0 = {t: self.to_chain_space(t, self._gather(start[t], index[t]))
              for t in self.task_names}
        if self.detach_start:
            x0 = {t: v.detach() for t, v in x0.items()}
        want_steps = self.training and (self.step_loss_weight > 0
                                        or self.denoise_loss_weight > 0)
        guide = self.guide_map(inputs, x0[self.task_names[0]].shape[-2:])
        chain = self.run_chain(x0, index, self.condition_tokens(preds), noise,
                               return_steps=want_steps, guide=guide)
        final, steps = chain if want_steps else (chain, None)
        for t in self.task_names:  # tasks without pairs: empty outputs
            if t not in final:
                final[t] = x0[t][:0] if self.variant == 'prediction' else preds[t][:0]
        outs = dict(init=preds, final=final, index=index)
        if want_steps:
            outs.update(steps=steps, start=x0)
        return outs

    # -------------------------------------------------------------------- loss
    def _losses_fp32(self, outs: Dict[str, dict], batch_data_samples: Sequence,
                     task_mask: Tensor,
                     targets: Optional[Dict[tuple, Tensor]] = None) -> Dict[str, Tensor]:
        """The baseline losses plus, when enabled, ``loss_<task>_steps`` (task
        loss of every intermediate step's prediction, averaged over steps)
        and ``loss_<task>_denoise`` (MSE of every step's :math:`\\hat x_0`
        to the clean start map)."""
        targets = {} if targets is None else targets
        losses = super()._losses_fp32(outs, batch_data_samples, task_mask, targets)
        steps = outs.get('steps')
        if steps is None:
            return losses
        sample_w = partial_label_sample_weights(task_mask, self.scale_by_labels)
        sample_w = sample_w.to(task_mask.device)
        for t in self.task_names:
            maps = steps.get(t, [])
            index = outs['index'][t]
            if self.step_loss_weight > 0:
                inter = maps[:-1]  # the last one is the final prediction
                if inter:
                    preds = [m if self.variant == 'prediction' else self.final_heads[t](m)
                             for m in inter]
                    loss = sum(self._chain_task_loss(t, p, batch_data_samples, index,
                                                     sample_w, targets)
                               for p in preds) / len(preds)
                else:
                    loss = outs['final'][t].float().sum() * 0.0
                losses[f'loss_{t}_steps'] = self.step_loss_weight * loss
            if self.denoise_loss_weight > 0:
                if maps:
                    target = outs['start'][t].detach().float()
                    loss = sum(F.mse_loss(m.float(), target) for m in maps) / len(maps)
                else:
                    loss = outs['final'][t].float().sum() * 0.0
                losses[f'loss_{t}_denoise'] = self.denoise_loss_weight * loss
        return losses

    def _final_task_loss(self, task: str, pred: Tensor, batch_data_samples: Sequence,
                         index: Tensor, sample_w: Tensor,
                         targets: Optional[Dict[tuple, Tensor]] = None) -> Tensor:
        """The final prediction lives in the chain's space (see
        :meth:`_chain_task_loss`)."""
        return self._chain_task_loss(task, pred, batch_data_samples, index, sample_w, targets)

    def _chain_task_loss(self, task: str, pred: Tensor, batch_data_samples: Sequence,
                         index: Tensor, sample_w: Tensor,
                         targets: Optional[Dict[tuple, Tensor]] = None) -> Tensor:
        """Task loss of a map in the chain's output space: the configured loss,
        or for semseg with ``semseg_repr='softmax'`` the squared error to the
        one-hot ground truth scaled to ``[-1, 1]`` (:meth:`simplex_loss`)."""
        if task in self.simplex_tasks:
            return self.simplex_loss(pred, batch_data_samples, index, sample_w, task, targets)
        if task in self.refine_losses:
            return self._task_loss(task, pred, batch_data_samples, index, sample_w, targets,
                                   loss_fns=self.refine_losses[task])
        return self._task_loss(task, pred, batch_data_samples, index, sample_w, targets)

    def simplex_loss(self, pred: Tensor, batch_data_samples: Sequence, index: Tensor,
                     sample_w: Tensor, task: str = 'semseg',
                     targets: Optional[Dict[tuple, Tensor]] = None) -> Tensor:
        """Squared error of semseg scores in ``[-1, 1]`` space to ``2 * one_hot
        - 1``, summed over classes, averaged over each sample's valid pixels
        (label != the semseg loss's ``ignore_index``, default 255), times the
        semseg loss's ``loss_weight`` and the partial-label sample weights.

        Raises:
            ValueError: A valid label outside ``[0, num_classes)``; the
                message names the sample and its image.
        """
        if index.numel() == 0:
            return pred.float().sum() * 0.0
        num_classes = self.tasks[task]
        loss_cfg = self.losses[task]
        ignore = getattr(loss_cfg, 'ignore_index', 255)
        target = self._cached_targets(task, batch_data_samples, index, targets)
        if target.dim() == 4:
            target = target[:, 0]
        target = target.long()
        valid = target != ignore
        bad = valid & ((target < 0) | (target >= num_classes))
        if bool(bad.any()):
            row = int(bad.flatten(1).any(1).nonzero()[0])
            i = int(index[row])
            raise ValueError(
                f'{type(self).__name__}: sample {i} '
                f'(img_path={batch_data_samples[i].metainfo.get("img_path")}) has {task} '
                f'labels outside [0, {num_classes}) that are not ignore_index={ignore}: '
                f'{sorted(set(target[row][bad[row]].tolist()))[:10]}')
        pred = resize(pred.float(), size=target.shape[-2:], mode='bilinear',
                      align_corners=self.align_corners)
        one_hot = F.one_hot(torch.where(valid, target, 0), num_classes)
        one_hot = one_hot.permute(0, 3, 1, 2).float() * 2.0 - 1.0
        per_pixel = (pred - one_hot).pow(2).sum(dim=1) * valid
        per_sample = per_pixel.flatten(1).sum(1) / valid.flatten(1).sum(1).clamp(min=1)
        per_sample = per_sample * float(getattr(loss_cfg, 'loss_weight', 1.0))
        return (per_sample * sample_w.index_select(0, index)).sum()
