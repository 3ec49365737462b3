"""Head options of issue #12: residual refinement, extra losses, detached
start, and the switches that align mmdmtl with the official code."""
import math

import pytest
import torch
import torch.nn.functional as F
from mtl_model_helpers import NYUD_TASKS, build, fake_feats, head_cfg, make_samples, model_cfg

from mmdmtl.models.losses import BalancedBCELoss
from mmdmtl.models.utils import MultiLevelFusion, TimestepEmbedding, TwoClassLogitConv

TASKS = list(NYUD_TASKS)
H, W = 32, 48


def _noise(head, b, seed=1):
    g = torch.Generator().manual_seed(seed)
    return {t: torch.randn(*s, generator=g)
            for t, s in head.noise_shapes(b, (H // 8, W // 8)).items()}


@pytest.mark.parametrize('variant', ['prediction', 'feature'])
def test_residual_starts_as_identity_on_the_noised_input(variant):
    """At initialisation every residual step returns its input, so the refined
    output is the initial map walked through the (noisy) chain unchanged."""
    torch.manual_seed(0)
    head = build(head_cfg(variant=variant, refine_mode='residual', num_timesteps=2)).eval()
    feats = fake_feats(2, H, W)
    noise = _noise(head, 2)
    with torch.no_grad():
        out = head(feats, noise=noise)
        start_feats, start_preds = head.preliminary(feats)
        sched = head.scheduler
        for t in TASKS:
            x0 = start_preds[t] if variant == 'prediction' else start_feats[t]
            x1 = sched.start_state(x0, noise[t][0])
            x_0 = sched.posterior_step(x1, x1, 1, noise[t][1])
            expected = x_0 if variant == 'prediction' else head.prelim_heads[t](x_0)
            torch.testing.assert_close(out['final'][t], expected, rtol=1e-5, atol=1e-6)


def test_residual_feature_variant_shares_the_initial_heads():
    head = build(head_cfg(variant='feature', refine_mode='residual'))
    assert head.final_heads is head.prelim_heads
    # the correction stack ends with a zero-initialised conv, not a ReLU
    stack = head.denoiser.task_heads['semseg']
    assert isinstance(stack[-1], torch.nn.Conv2d)
    assert stack[-1].weight.abs().sum() == 0 and stack[-1].bias.abs().sum() == 0
    direct = build(head_cfg(variant='feature'))
    assert direct.final_heads is not direct.prelim_heads
    assert isinstance(direct.denoiser.task_heads['semseg'][-1], torch.nn.ReLU)
    unshared = build(head_cfg(variant='feature', refine_mode='residual',
                              share_final_head=False))
    assert unshared.final_heads is not unshared.prelim_heads


def test_residual_prediction_variant_final_heads_start_at_zero():
    head = build(head_cfg(variant='prediction', refine_mode='residual'))
    for conv in head.final_heads.values():
        assert conv.weight.abs().sum() == 0 and conv.bias.abs().sum() == 0


@pytest.mark.parametrize('variant', ['prediction', 'feature'])
def test_residual_head_learns(variant):
    """The zero-initialised correction gets gradients and moves."""
    torch.manual_seed(0)
    head = build(head_cfg(variant=variant, refine_mode='residual'))
    head.train()
    samples = make_samples(2, H, W, TASKS)
    losses = head.loss(fake_feats(2, H, W), samples)
    sum(losses.values()).backward()
    last = (head.final_heads['semseg'] if variant == 'prediction' else
            head.denoiser.task_heads['semseg'][-1])
    assert last.weight.grad.abs().sum() > 0


def test_bad_refinement_options():
    with pytest.raises(ValueError, match='refine_mode'):
        build(head_cfg(refine_mode='delta'))
    with pytest.raises(ValueError, match='share_final_head'):
        build(head_cfg(variant='prediction', share_final_head=True))
    with pytest.raises(ValueError, match='step_loss_weight'):
        build(head_cfg(step_loss_weight=-1))
    with pytest.raises(ValueError, match='cond_proj_init'):
        build(head_cfg(cond_proj_init='xavier'))
    with pytest.raises(ValueError, match='pred_head_init'):
        build(head_cfg(pred_head_init='zeros'))
    with pytest.raises(ValueError, match='depth_activation'):
        build(head_cfg(depth_activation='relu'))
    with pytest.raises(ValueError, match="two_class_tasks \\['semseg'\\]"):
        build(head_cfg(two_class_tasks=['semseg']))


@pytest.mark.parametrize('variant', ['prediction', 'feature'])
def test_step_and_denoise_losses(variant):
    torch.manual_seed(0)
    head = build(head_cfg(variant=variant, num_timesteps=3, step_loss_weight=0.5,
                          denoise_loss_weight=0.1))
    head.train()
    samples = make_samples(2, H, W, TASKS, labelled=[['semseg', 'depth'], ['semseg']])
    losses = head.loss(fake_feats(2, H, W), samples, noise=_noise(head, 2))
    for t in TASKS:
        assert f'loss_{t}_steps' in losses and f'loss_{t}_denoise' in losses
    assert losses['loss_normal_steps'].item() == 0.0  # no labelled pair
    assert losses['loss_semseg_steps'].item() > 0 and losses['loss_semseg_denoise'].item() > 0
    sum(losses.values()).backward()
    # the step loss of T=3 covers the 2 intermediate steps: recompute it
    with torch.no_grad():
        head.step_loss_weight, head.denoise_loss_weight = 1.0, 0.0
        again = head.loss(fake_feats(2, H, W), samples, noise=_noise(head, 2))
    assert again['loss_semseg_steps'].item() == pytest.approx(
        2 * losses['loss_semseg_steps'].item(), rel=1e-4)
    # off by default: no extra keys
    plain = build(head_cfg(variant=variant)).train()
    assert not any(k.endswith(('_steps', '_denoise'))
                   for k in plain.loss(fake_feats(2, H, W), samples))


def test_detach_start_cuts_the_chain_gradient_into_the_decoders():
    samples = make_samples(2, H, W, TASKS)

    def decoder_grad(detach):
        torch.manual_seed(0)
        head = build(head_cfg(variant='feature', detach_start=detach, initial_loss_weight=0.0))
        head.train()
        losses = head.loss(fake_feats(2, H, W), samples)
        sum(v for k, v in losses.items() if not k.endswith('_init')).backward()
        return sum(p.grad.abs().sum().item() for p in head.prelim_decoders.parameters()
                   if p.grad is not None)

    assert decoder_grad(False) > 0
    assert decoder_grad(True) == 0


# ------------------------------------------------------- official alignment
def test_prediction_head_init_switch():
    normal = build(head_cfg())
    default = build(head_cfg(pred_head_init='default'))
    for head in (normal, default):
        for convs in (head.prelim_heads, head.final_heads):
            w, b = convs['semseg'].weight, convs['semseg'].bias
            if head is normal:
                assert w.std().item() < 0.02 and b.abs().sum() == 0
            else:  # PyTorch default: uniform(+-1/sqrt(fan_in)), non-zero bias
                bound = 1 / math.sqrt(w.shape[1])
                assert w.abs().max().item() <= bound and w.std().item() > 0.3 * bound
                assert b.abs().sum() > 0


def test_fusion_init_switch_survives_init_weights():
    torch.manual_seed(0)
    kaiming = MultiLevelFusion([8, 16], 32)
    default = MultiLevelFusion([8, 16], 32, init='default')
    w_k, w_d = kaiming.proj.conv.weight, default.proj.conv.weight
    fan_in = w_d.shape[1] * 9
    assert w_d.abs().max().item() <= 1 / math.sqrt(fan_in) + 1e-7
    assert w_k.std().item() == pytest.approx(math.sqrt(2 / (32 * 9)), rel=0.15)
    with pytest.raises(ValueError, match='init'):
        MultiLevelFusion([8], 4, init='xavier')
    # the runner's init_weights must not re-initialise it
    model = build(model_cfg(head=head_cfg(fusion_init='default')))
    before = model.decode_head.fusion.proj.conv.weight.clone()
    model.init_weights()
    torch.testing.assert_close(model.decode_head.fusion.proj.conv.weight, before)


def test_cond_proj_and_timestep_bias_init_switches():
    torch.manual_seed(0)
    head = build(head_cfg(cond_proj_init='kaiming', timestep_bias_init='default'))
    w = head.cond_proj.weight
    assert head.cond_proj.bias.abs().sum() == 0
    assert w.std().item() == pytest.approx(math.sqrt(2 / (w.shape[0] * 9)), rel=0.15)
    assert head.denoiser.t_embed.mlp[0].bias.abs().sum() > 0
    plain = build(head_cfg())
    assert plain.denoiser.t_embed.mlp[0].bias.abs().sum() == 0
    assert plain.cond_proj.bias.abs().sum() > 0
    with pytest.raises(ValueError, match='bias_init'):
        TimestepEmbedding(8, 8, bias_init='ones')


def test_depth_activation_switch():
    feats = fake_feats(1, H, W)
    for act in ('softplus', 'linear'):
        torch.manual_seed(0)
        head = build(head_cfg(depth_activation=act, pred_head_init='default')).eval()
        with torch.no_grad():
            head.prelim_heads['depth'].bias.fill_(-5.0)
            out = head.predict(feats, [], dict(output='initial'), size=(H, W))['depth']
        assert (out > 0).all() if act == 'softplus' else (out < 0).any()


def test_two_class_saliency_matches_the_official_softmax_and_balanced_ce():
    torch.manual_seed(0)
    conv = TwoClassLogitConv(4)
    assert conv.weight.shape == (2, 4, 1, 1)
    x = torch.randn(3, 4, 5, 6)
    two = F.conv2d(x, conv.weight, conv.bias)
    logit = conv(x)
    torch.testing.assert_close(logit.sigmoid(), two.softmax(1)[:, 1:2])
    # 2-class balanced CE (official) == balanced BCE of l1 - l0 (ours)
    target = (torch.rand(3, 1, 5, 6) > 0.7).long()
    target[0, 0, 0, :3] = 255
    ours = BalancedBCELoss(pos_weight=None, reduction='none')(logit, target)
    for i in range(3):
        lab = target[i, 0]
        valid = lab != 255
        w_pos = (lab[valid] == 0).float().mean()
        ce = F.cross_entropy(two[i:i + 1], torch.where(valid, lab, 255)[None],
                             weight=torch.stack([1 - w_pos, w_pos]), ignore_index=255,
                             reduction='none')
        assert ours[i].item() == pytest.approx((ce.sum() / valid.sum()).item(), rel=1e-5)
    head = build(head_cfg(dict(semseg=5, sal=1), two_class_tasks=['sal']))
    assert head.prelim_heads['sal'].weight.shape[0] == 2
    assert head.final_heads['sal'].weight.shape[0] == 2
    with torch.no_grad():
        out = head.eval().predict(fake_feats(1, H, W), [], None, size=(H, W))
    assert out['sal'].shape == (1, 1, H, W)
