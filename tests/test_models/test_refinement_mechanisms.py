"""Refinement mechanisms of issue #12 beyond the residual form: the softmax
(simplex) semseg representation, the stop-gradient into the initial decoders
with it, and the higher-resolution, backbone-guided chain
(``refine_scale`` / ``guide_level``). The default head must not change."""
import pytest
import test_refinement_improves as scene
import torch
import torch.nn.functional as F
from mtl_model_helpers import NYUD_TASKS, build, fake_feats, head_cfg, make_samples

TASKS = list(NYUD_TASKS)
H, W = 32, 48
LABELLED = [['semseg', 'depth'], ['normal', 'semseg']]
SOFTMAX = dict(variant='prediction', refine_mode='residual', semseg_repr='softmax')
GUIDED = dict(refine_scale=2.0, guide_level=0)


def _noise(head, b=2, seed=3, zero=False):
    g = torch.Generator().manual_seed(seed)
    shapes = head.noise_shapes(b, (H // 8, W // 8))
    return {t: torch.zeros(*s) if zero else torch.randn(*s, generator=g)
            for t, s in shapes.items()}


def _losses(**kwargs):
    torch.manual_seed(0)
    head = build(head_cfg(**kwargs)).train()
    samples = make_samples(2, H, W, TASKS, labelled=LABELLED)
    return head, head.loss(fake_feats(2, H, W), samples, noise=_noise(head))


# ------------------------------------------------------------ default path
#: losses of the default head (and the residual one) measured on the code
#: before these options existed (same seeds, batch and noise)
OLD_LOSSES = {
    ('prediction', 'direct'): (2.414407253265381, 0.9875540733337402, 15.008448600769043),
    ('prediction', 'residual'): (2.440457344055176, 1.0001037120819092, 14.820090293884277),
    ('feature', 'direct'): (2.413973808288574, 0.986420750617981, 15.053359985351562),
    ('feature', 'residual'): (2.4378788471221924, 0.9997408390045166, 14.821040153503418),
}


@pytest.mark.parametrize('variant,mode', sorted(OLD_LOSSES))
def test_default_head_is_unchanged(variant, mode):
    head, losses = _losses(variant=variant, refine_mode=mode)
    got = tuple(losses[f'loss_{t}'].item() for t in TASKS)
    assert got == pytest.approx(OLD_LOSSES[variant, mode], rel=1e-5)
    assert losses['loss_semseg_init'].item() == pytest.approx(1.219177484512329, rel=1e-5)
    # spelling the new options' defaults out builds the very same head
    _, explicit = _losses(variant=variant, refine_mode=mode, semseg_repr='logits',
                          refine_scale=1.0, guide_level=None)
    for k, v in losses.items():
        assert explicit[k].item() == v.item(), k
    assert head.guide_proj is None
    assert not any(k.startswith('guide_proj') for k in head.state_dict())


def test_bad_mechanism_options():
    with pytest.raises(ValueError, match='semseg_repr must be'):
        build(head_cfg(semseg_repr='onehot'))
    with pytest.raises(ValueError, match='needs variant=prediction'):
        build(head_cfg(variant='feature', semseg_repr='softmax'))
    with pytest.raises(ValueError, match='and a semseg task'):
        build(head_cfg(tasks=dict(depth=1, normal=3), variant='prediction',
                       semseg_repr='softmax'))
    with pytest.raises(ValueError, match='refine_scale must be > 0'):
        build(head_cfg(refine_scale=0))
    with pytest.raises(ValueError, match='guide_level must index'):
        build(head_cfg(guide_level=4))


# ------------------------------------------------------- softmax semseg repr
def test_softmax_start_state_lies_in_the_scaled_simplex():
    """The chain's clean semseg start is 2 * softmax(initial logits) - 1: in
    [-1, 1] and (x + 1) / 2 sums to one over classes; the other tasks keep
    their raw maps; the chain starts from it noised."""
    torch.manual_seed(0)
    head = build(head_cfg(**SOFTMAX)).eval()
    feats = fake_feats(2, H, W)
    seen = {}
    run_chain = head.run_chain

    def spy(x0, *args, **kwargs):
        seen.update(x0)
        return run_chain(x0, *args, **kwargs)

    head.run_chain = spy
    with torch.no_grad():
        head(feats)
        _, preds = head.preliminary(feats)
    x0 = seen['semseg']
    assert x0.min() >= -1 and x0.max() <= 1
    torch.testing.assert_close(((x0 + 1) / 2).sum(1), torch.ones(2, H // 8, W // 8))
    torch.testing.assert_close(x0, 2 * preds['semseg'].softmax(1) - 1)
    torch.testing.assert_close(seen['depth'], preds['depth'])
    # logits (default): the raw map
    logits_head = build(head_cfg(variant='prediction', refine_mode='residual'))
    torch.testing.assert_close(logits_head.to_chain_space('semseg', preds['semseg']),
                               preds['semseg'])


def test_softmax_residual_starts_as_the_initial_prediction():
    """At initialisation, without noise, the refined semseg is the initial
    softmax in [-1, 1] space walked through the chain unchanged (only the
    schedule's scaling): the same argmax as the initial logits."""
    torch.manual_seed(0)
    head = build(head_cfg(**SOFTMAX)).eval()
    feats = fake_feats(2, H, W)
    with torch.no_grad():
        out = head(feats, noise=_noise(head, zero=True))
    sched = head.scheduler
    x1 = sched.start_state(2 * out['init']['semseg'].softmax(1) - 1, torch.zeros(1))
    expected = sched.posterior_mean(x1, x1, 1)
    torch.testing.assert_close(out['final']['semseg'], expected, rtol=1e-5, atol=1e-5)
    assert torch.equal(out['final']['semseg'].argmax(1), out['init']['semseg'].argmax(1))


def test_simplex_loss_targets_the_scaled_one_hot():
    torch.manual_seed(0)
    head = build(head_cfg(**SOFTMAX))
    n_cls = NYUD_TASKS['semseg']
    samples = make_samples(2, 8, 8, ['semseg'])
    gt = torch.stack([s.gt_sem_seg.data for s in samples])[:, 0].long()
    gt[0, :2] = 255  # ignored pixels
    for s, g in zip(samples, gt):
        s.gt_sem_seg.data = g[None]
    index, weights = torch.arange(2), torch.tensor([0.5, 0.25])
    valid = gt != 255
    target = 2 * F.one_hot(torch.where(valid, gt, 0), n_cls).permute(0, 3, 1, 2).float() - 1
    # the scaled one-hot itself has zero loss; ignored pixels do not count
    perfect = target.clone()
    perfect[0, :, :2] = 5.0
    assert head.simplex_loss(perfect, samples, index, weights).item() == pytest.approx(0)
    pred = torch.randn(2, n_cls, 8, 8)
    per_pix = ((pred - target)**2).sum(1) * valid
    per_sample = per_pix.flatten(1).sum(1) / valid.flatten(1).sum(1)
    expected = (per_sample * weights).sum()
    got = head.simplex_loss(pred, samples, index, weights)
    assert got.item() == pytest.approx(expected.item(), rel=1e-5)
    # the head's refined semseg loss is this loss (the init keeps cross-entropy)
    head.train()
    losses = head.loss(fake_feats(2, H, W), make_samples(2, H, W, TASKS, labelled=LABELLED),
                       noise=_noise(head))
    assert set(losses) == {f'loss_{t}{s}' for t in TASKS for s in ('', '_init')}
    _, ce = _losses(variant='prediction', refine_mode='residual')
    assert losses['loss_semseg'].item() != pytest.approx(ce['loss_semseg'].item(), rel=1e-3)
    assert losses['loss_semseg_init'].item() == pytest.approx(ce['loss_semseg_init'].item())


def test_simplex_loss_names_the_sample_with_a_bad_label():
    head = build(head_cfg(**SOFTMAX))
    samples = make_samples(2, 8, 8, ['semseg'])
    samples[1].gt_sem_seg.data[0, 3, 3] = 40
    samples[1].set_metainfo(dict(img_path='scene_0007.png'))
    with pytest.raises(ValueError, match=r'sample 1 \(img_path=scene_0007.png\).*\[40\]'):
        head.simplex_loss(torch.zeros(2, NYUD_TASKS['semseg'], 8, 8), samples,
                          torch.arange(2), torch.ones(2))


@pytest.mark.parametrize('extra', [{}, GUIDED], ids=['plain', 'guided'])
def test_detach_start_leaves_no_refined_gradient_in_the_initial_decoders(extra):
    """Stop-gradient: the refined losses reach neither the preliminary
    decoders nor their 1x1 heads (nor the fusion); without it they do."""

    def grads(detach):
        torch.manual_seed(0)
        head = build(head_cfg(**SOFTMAX, **extra, detach_start=detach)).train()
        samples = make_samples(2, H, W, TASKS, labelled=LABELLED)
        # make the zero-initialised correction heads non-zero, so that the
        # refined loss depends on the chain's input at all
        for conv in head.final_heads.values():
            torch.nn.init.normal_(conv.weight, std=0.1)
        losses = head.loss(fake_feats(2, H, W), samples, noise=_noise(head))
        sum(v for k, v in losses.items() if not k.endswith('_init')).backward()
        mods = [head.prelim_decoders, head.prelim_heads, head.fusion]
        return sum(p.grad.abs().sum().item() for m in mods for p in m.parameters()
                   if p.grad is not None)

    assert grads(False) > 0
    assert grads(True) == 0


# ------------------------------------------------ guided high-resolution chain
@pytest.mark.parametrize('variant', ['prediction', 'feature'])
def test_guided_chain_runs_at_the_finer_resolution(variant):
    torch.manual_seed(0)
    head = build(head_cfg(variant=variant, refine_mode='residual', **GUIDED)).eval()
    feats = fake_feats(2, H, W)
    shapes = head.noise_shapes(2, (H // 8, W // 8))
    assert shapes['depth'][-2:] == (H // 4, W // 4)
    with torch.no_grad():
        out = head(feats, noise=_noise(head))
        pred = head.predict(feats, [], dict(output='final'), size=(H, W))
    assert out['init']['semseg'].shape[-2:] == (H // 8, W // 8)
    for t in TASKS:
        assert out['final'][t].shape[-2:] == (H // 4, W // 4)
        assert pred[t].shape[-2:] == (H, W)
    assert head.guide_proj.in_channels == 64  # the stride-4 level


def test_guide_feeds_the_stride4_level_into_the_denoiser():
    """With its projection zeroed the guided head is the unguided one; with
    it, the refined output depends on the stride-4 level, which the guide
    projection learns from."""
    torch.manual_seed(0)
    guided = build(head_cfg(**SOFTMAX, **GUIDED)).eval()
    for conv in guided.final_heads.values():
        torch.nn.init.normal_(conv.weight, std=0.1)
    plain = build(head_cfg(**SOFTMAX, refine_scale=2.0)).eval()
    plain.load_state_dict({k: v for k, v in guided.state_dict().items()
                           if not k.startswith('guide_proj')})
    feats = fake_feats(2, H, W)
    noise = _noise(guided)
    with torch.no_grad():
        on = guided(feats, noise=noise)['final']
        torch.nn.init.zeros_(guided.guide_proj.weight)
        torch.nn.init.zeros_(guided.guide_proj.bias)
        off = guided(feats, noise=noise)['final']
        ref = plain(feats, noise=noise)['final']
    for t in TASKS:
        torch.testing.assert_close(off[t], ref[t])
        assert not torch.allclose(on[t], ref[t])
    guided.train()
    losses = guided.loss(feats, make_samples(2, H, W, TASKS), noise=noise)
    sum(losses.values()).backward()
    assert guided.guide_proj.weight.grad.abs().sum() > 0


# ------------------------------------------------------ does refinement help?
def _train(**kwargs):
    """Train a head alone on the fixed scene of test_refinement_improves;
    return its initial and refined semseg pixel accuracy, predicted class
    counts, and depth / normal losses."""
    torch.manual_seed(0)
    samples, feats = scene._scene()
    head = build(head_cfg(scene.TASKS, in_channels=scene.CHANNELS, **kwargs))
    g = torch.Generator().manual_seed(1)
    noise = {t: torch.randn(*s, generator=g)
             for t, s in head.noise_shapes(scene.B, (scene.H // 8, scene.W // 8)).items()}
    optim = torch.optim.Adam(head.parameters(), lr=1e-3)
    head.train()
    for _ in range(scene.STEPS):
        losses = head.loss(feats, samples, noise=noise)
        optim.zero_grad()
        sum(losses.values()).backward()
        optim.step()
    gt = torch.stack([s.gt_sem_seg.data for s in samples])[:, 0]
    index, weights = torch.arange(scene.B), torch.full((scene.B, ), 1.0 / scene.B)
    result = {}
    with torch.no_grad():
        outs = head(feats, noise=noise)
        for k in ('init', 'final'):
            sem = F.interpolate(outs[k]['semseg'], size=gt.shape[-2:], mode='bilinear')
            result[k] = dict(
                acc=(sem.argmax(1) == gt).float().mean().item(),
                classes=sem.argmax(1).unique().numel(),
                **{t: head._task_loss(t, outs[k][t], samples, index, weights).item()
                   for t in ('depth', 'normal')})
    return result


@pytest.mark.parametrize('extra', [{}, GUIDED], ids=['softmax', 'softmax-guided'])
def test_softmax_refinement_does_not_degrade_initial(extra):
    r = _train(**SOFTMAX, **extra)
    init, final = r['init'], r['final']
    assert final['acc'] >= init['acc'], r
    assert final['classes'] >= init['classes'], r
    for t in ('depth', 'normal'):
        assert final[t] <= init[t] * 1.001 + 1e-6, r
