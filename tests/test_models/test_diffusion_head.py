"""DiffusionMTLHead / MTLBaselineHead: partial labels, batching, variants."""
import copy

import pytest
import torch
from mtl_model_helpers import NYUD_TASKS, build, fake_feats, head_cfg, make_samples, model_cfg
from torch import nn

from mmdmtl.models.decode_heads import task_mask_tensor

TASKS = list(NYUD_TASKS)
H, W = 32, 48  # input size; fused maps are 4x6


def _bn_eval(module: nn.Module) -> nn.Module:
    """Training mode with frozen BN statistics (so samples do not interact)."""
    module.train()
    for m in module.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.eval()
    return module


def _fixed_noise(head, b: int, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    shapes = head.noise_shapes(b, (H // 8, W // 8))
    return {t: torch.randn(*s, generator=g) for t, s in shapes.items()}


def test_gradients_reach_only_labelled_final_heads():
    torch.manual_seed(0)
    head = build(head_cfg())
    head.train()
    samples = make_samples(2, H, W, TASKS, labelled=[['semseg'], ['depth']])
    losses = head.loss(fake_feats(2, H, W), samples)
    assert set(losses) == {f'loss_{t}{s}' for t in TASKS for s in ('', '_init')}
    assert losses['loss_normal'].item() == 0.0 and losses['loss_normal_init'].item() == 0.0
    sum(v for k, v in losses.items() if not k.endswith('_init')).backward()
    for t in ('semseg', 'depth'):
        assert head.final_heads[t].weight.grad.abs().sum() > 0
        assert head.denoiser.pre_layers[t].weight.grad.abs().sum() > 0
    assert head.final_heads['normal'].weight.grad is None
    assert head.denoiser.task_heads['normal'][0].weight.grad is None
    # the conditioning path only sees detached initial predictions
    grad = head.prelim_heads['normal'].weight.grad
    assert grad is None or grad.abs().sum() == 0


def test_unlabelled_sample_changes_nothing():
    """With an extra all-unlabelled sample the losses and gradients are the same
    up to the batch-size divisor (the official code divides by the local batch
    size B, so they scale by B / (B + 1))."""
    torch.manual_seed(0)
    head = _bn_eval(build(head_cfg()))
    feats3 = fake_feats(3, H, W)
    samples3 = make_samples(3, H, W, TASKS, labelled=[['semseg', 'depth'], ['normal'], []])
    noise = _fixed_noise(head, 3)

    def run(n):
        head.zero_grad()
        losses = head.loss([f[:n] for f in feats3], samples3[:n],
                           noise={t: v[:, :n] for t, v in noise.items()})
        total = sum(losses.values())
        total.backward()
        grads = {k: p.grad.clone() for k, p in head.named_parameters() if p.grad is not None}
        return {k: v.item() for k, v in losses.items()}, grads

    l2, g2 = run(2)
    l3, g3 = run(3)
    for k in l2:
        assert l3[k] * 3 == pytest.approx(l2[k] * 2, rel=1e-5, abs=1e-7), k
    assert g2.keys() == g3.keys()
    for k in g2:
        torch.testing.assert_close(g3[k] * 3, g2[k] * 2, rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize('variant', ['feature', 'prediction'])
def test_batched_equals_per_sample(variant):
    torch.manual_seed(0)
    head = _bn_eval(build(head_cfg(variant=variant, num_timesteps=3)))
    b = 4
    feats = fake_feats(b, H, W)
    labelled = [['semseg', 'normal'], ['depth'], ['semseg', 'depth', 'normal'], ['normal']]
    samples = make_samples(b, H, W, TASKS, labelled=labelled)
    mask = task_mask_tensor(samples, TASKS, torch.device('cpu'))
    noise = _fixed_noise(head, b)
    with torch.no_grad():
        out = head(feats, task_mask=mask, noise=noise)
        for i in range(b):
            single = head([f[i:i + 1] for f in feats], task_mask=mask[i:i + 1],
                          noise={t: v[:, i:i + 1] for t, v in noise.items()})
            for t in TASKS:
                rows = (out['index'][t] == i).nonzero(as_tuple=True)[0]
                assert rows.numel() == single['final'][t].shape[0] == int(t in labelled[i])
                torch.testing.assert_close(out['final'][t][rows], single['final'][t],
                                           rtol=1e-4, atol=1e-5)


def test_inference_denoises_all_tasks_and_test_noise():
    torch.manual_seed(0)
    feats = fake_feats(2, H, W)
    head = build(head_cfg(test_noise='none')).eval()
    with torch.no_grad():
        a = head.predict(feats, [], None, size=(H, W))
        b = head.predict(feats, [], None, size=(H, W))
    assert {t: v.shape for t, v in a.items()} == {
        t: (2, c, H, W) for t, c in NYUD_TASKS.items()}
    assert (a['depth'] > 0).all()
    for t in TASKS:
        torch.testing.assert_close(a[t], b[t])
    head = build(head_cfg(test_noise='random')).eval()
    with torch.no_grad():
        a = head.predict(feats, [], None, size=(H, W))
        b = head.predict(feats, [], None, size=(H, W))
    assert not torch.allclose(a['semseg'], b['semseg'])


def test_predict_initial_output_skips_the_refinement():
    """test_cfg.output='initial' returns the preliminary decoders' maps
    (deterministic even with random test noise); unknown values fail."""
    torch.manual_seed(0)
    feats = fake_feats(2, H, W)
    head = build(head_cfg(test_noise='random')).eval()
    with torch.no_grad():
        init = head.predict(feats, [], dict(output='initial'), size=(H, W))
        again = head.predict(feats, [], dict(output='initial'), size=(H, W))
        final = head.predict(feats, [], dict(output='final'), size=(H, W))
        _, raw = head.preliminary(feats)
    for t in TASKS:
        torch.testing.assert_close(init[t], again[t])
        assert init[t].shape == final[t].shape == (2, NYUD_TASKS[t], H, W)
    assert not torch.allclose(init['semseg'], final['semseg'])
    # semseg logits are the resized raw initial map
    torch.testing.assert_close(
        init['semseg'], nn.functional.interpolate(raw['semseg'], size=(H, W), mode='bilinear',
                                                  align_corners=head.align_corners))
    with pytest.raises(ValueError, match="output must be 'final' or 'initial'"):
        head.predict(feats, [], dict(output='both'), size=(H, W))


def test_predict_output_per_task_mixes_initial_and_refined_maps():
    """test_cfg.output as a dict: each task gets the map it names (the
    refined one for missing tasks), equal to the all-'final' / all-'initial'
    outputs of that task; unknown tasks and modes fail, naming them."""
    torch.manual_seed(0)
    feats = fake_feats(2, H, W)
    head = build(head_cfg(test_noise='none')).eval()
    with torch.no_grad():
        init = head.predict(feats, [], dict(output='initial'), size=(H, W))
        final = head.predict(feats, [], dict(output='final'), size=(H, W))
        mixed = head.predict(feats, [], dict(output=dict(depth='initial', normal='initial')),
                             size=(H, W))
    for t in TASKS:
        want = init[t] if t in ('depth', 'normal') else final[t]
        torch.testing.assert_close(mixed[t], want, msg=t)
    assert not torch.allclose(init['depth'], final['depth'])  # the choice matters
    assert head.output_modes(dict(semseg='initial')) == {
        t: 'initial' if t == 'semseg' else 'final' for t in TASKS}
    with pytest.raises(ValueError, match=r"names \['sal'\], which this head does not"):
        head.predict(feats, [], dict(output=dict(sal='initial')), size=(H, W))
    with pytest.raises(ValueError, match="got 'refined' for depth"):
        head.predict(feats, [], dict(output=dict(depth='refined')), size=(H, W))


def test_task_without_labels_in_batch_gives_zero_loss():
    head = build(head_cfg()).train()
    samples = make_samples(2, H, W, TASKS, labelled=[['semseg'], ['semseg']])
    losses = head.loss(fake_feats(2, H, W), samples)
    for t in ('depth', 'normal'):
        assert losses[f'loss_{t}'].item() == 0.0
    total = sum(losses.values())
    assert torch.isfinite(total)
    total.backward()
    assert all(torch.isfinite(p.grad).all() for p in head.parameters() if p.grad is not None)


def test_missing_task_mask_means_labelled_where_gt_exists():
    samples = make_samples(1, H, W, ['semseg', 'depth'])
    samples[0].set_metainfo(dict(task_mask=None))
    mask = task_mask_tensor(samples, ['semseg', 'depth', 'normal'], torch.device('cpu'))
    assert mask.tolist() == [[True, True, False]]


def test_bad_configs_and_inputs():
    with pytest.raises(ValueError, match='variant'):
        build(head_cfg(variant='latent'))
    with pytest.raises(ValueError, match='normal'):
        build(head_cfg(tasks=dict(semseg=5, normal=1)))
    with pytest.raises(KeyError, match='unknown task'):
        build(head_cfg(tasks=dict(semseg=5, albedo=3)))
    with pytest.raises(KeyError, match='loss_decode'):
        build(head_cfg(loss_decode=dict(edge=dict(type='BalancedBCELoss'))))
    with pytest.raises(KeyError, match='preset'):
        build(head_cfg(preset='huge'))
    head = build(head_cfg()).train()
    samples = make_samples(1, H, W, TASKS)
    del samples[0].gt_depth_map
    with pytest.raises(KeyError, match='sample 0 .*depth.*gt_depth_map'):
        head.loss(fake_feats(1, H, W), samples)


def test_baseline_head_losses_and_single_task():
    head = build(dict(type='MTLBaselineHead', in_channels=[64, 128, 256, 512],
                      tasks=dict(NYUD_TASKS), preset='lite', embed_dims=16))
    for k in ('variant', 'num_timesteps'):
        assert not hasattr(head, k)
    samples = make_samples(2, H, W, TASKS, labelled=[['semseg'], ['depth', 'normal']])
    losses = head.train().loss(fake_feats(2, H, W), samples)
    assert set(losses) == {'loss_semseg', 'loss_depth', 'loss_normal'}
    stl = build(dict(type='MTLBaselineHead', in_channels=[64, 128, 256, 512],
                     tasks=dict(depth=1), preset='lite'))
    losses = stl.train().loss(fake_feats(2, H, W), make_samples(2, H, W, ['depth']))
    assert set(losses) == {'loss_depth'} and losses['loss_depth'].item() > 0


def test_paper_preset_sizes():
    head = build(dict(type='DiffusionMTLHead', in_channels=[64, 128, 256, 512],
                      tasks=dict(NYUD_TASKS), preset='paper'))
    assert head.embed_dims == 512 and len(head.denoiser.blocks) == 4
    assert head.denoiser.token_downsample == 4
    lite = build(head_cfg(embed_dims=None, head_channels=None, num_heads=None))
    assert lite.embed_dims == 64
    n_paper = sum(p.numel() for p in head.parameters())
    assert n_paper > 50 * sum(p.numel() for p in lite.parameters())


VARIANTS = {
    'feature': dict(variant='feature'),
    'prediction': dict(variant='prediction'),
    'no_conditioning': dict(use_task_conditioning=False),
    'no_diffusion': dict(use_diffusion=False),
}


@pytest.mark.parametrize('name', list(VARIANTS))
def test_variants_train_and_reduce_loss(name):
    torch.manual_seed(0)
    model = build(model_cfg(head=head_cfg(**VARIANTS[name])))
    if name == 'no_conditioning':
        assert model.decode_head.cond_proj is None
    model.train()
    samples = make_samples(2, H, W, TASKS, labelled=[['semseg', 'depth'], ['normal']],
                           smooth=True)
    inputs = torch.randn(2, 3, H, W, generator=torch.Generator().manual_seed(3))
    optim = torch.optim.Adam(model.parameters(), lr=2e-3)
    history = []
    for _ in range(10):
        losses = model(inputs, copy.deepcopy(samples), mode='loss')
        total = sum(losses.values())
        assert torch.isfinite(total)
        optim.zero_grad()
        total.backward()
        optim.step()
        history.append(total.item())
    assert sum(history[-3:]) / 3 < 0.7 * sum(history[:3]) / 3, history
