"""``freeze_initial``: stage-wise training of the refinement only."""
import pytest
import torch
from mtl_model_helpers import NYUD_TASKS, build, fake_feats, head_cfg, make_samples

TASKS = list(NYUD_TASKS)
H, W = 32, 48


def _state(module):
    return {k: v.clone() for k, v in module.state_dict().items()}


@pytest.mark.parametrize('variant', ['prediction', 'feature'])
def test_frozen_initial_stage_stays_bit_identical_while_the_refinement_learns(variant):
    torch.manual_seed(0)
    head = build(head_cfg(variant=variant, refine_mode='anchored', freeze_initial=True))
    head.train()
    stage = {'fusion': head.fusion, 'prelim_decoders': head.prelim_decoders,
             'prelim_heads': head.prelim_heads}
    for name, module in stage.items():
        assert not any(p.requires_grad for p in module.parameters()), name
        # batch norms keep their statistics in train mode
        assert not any(m.training for m in module.modules()), name
    assert head.denoiser.training
    before = {n: _state(m) for n, m in stage.items()}
    denoiser_before = _state(head.denoiser)
    feats = fake_feats(2, H, W)
    samples = make_samples(2, H, W, TASKS, smooth=True)
    optim = torch.optim.Adam([p for p in head.parameters() if p.requires_grad], lr=1e-2)
    for _ in range(3):
        losses = head.loss(feats, samples)
        optim.zero_grad()
        sum(losses.values()).backward()
        optim.step()
    for name, module in stage.items():
        for k, v in module.state_dict().items():
            assert torch.equal(v, before[name][k]), f'{name}.{k} changed'
        assert all(p.grad is None for p in module.parameters()), name
    changed = [k for k, v in head.denoiser.state_dict().items()
               if v.dtype.is_floating_point and not torch.equal(v, denoiser_before[k])]
    assert changed, 'the refinement did not learn'


def test_unfrozen_head_trains_the_initial_stage():
    """The check above can fail: without ``freeze_initial`` the same steps
    change the preliminary decoders and their batch-norm statistics."""
    torch.manual_seed(0)
    head = build(head_cfg(variant='prediction', refine_mode='anchored'))
    head.train()
    before = _state(head.prelim_decoders)
    optim = torch.optim.Adam(head.parameters(), lr=1e-2)
    losses = head.loss(fake_feats(2, H, W), make_samples(2, H, W, TASKS, smooth=True))
    sum(losses.values()).backward()
    optim.step()
    assert any(not torch.equal(v, before[k]) for k, v in head.prelim_decoders.state_dict().items())


def test_fine_tuned_first_stage_learns_exactly_as_the_control_head():
    """``stagewise_joint``'s head settings (``freeze_initial=False``,
    ``initial_loss_weight=1.0``, ``detach_start``): from the same weights and
    batch, its fusion and preliminary decoders get the control's
    (``MTLBaselineHead``) gradient, so they train as the control does, while
    the refinement learns too. It fails with the default initial loss weight
    (half the gradient) or without ``detach_start`` (the refined loss leaks
    in)."""
    feats = fake_feats(2, H, W)
    samples = make_samples(2, H, W, TASKS, smooth=True)
    stage = ('fusion', 'prelim_decoders', 'prelim_heads')

    def first_stage_grads(head):
        head.train()
        sum(v for k, v in head.loss(feats, samples).items() if k.startswith('loss_')).backward()
        return {f'{n}.{k}': p.grad.clone() for n in stage
                for k, p in getattr(head, n).named_parameters()}

    torch.manual_seed(0)
    control = build(dict(type='MTLBaselineHead', in_channels=[64, 128, 256, 512],
                         tasks=dict(NYUD_TASKS), embed_dims=16, preset='lite'))
    ref = first_stage_grads(control)
    for extra, same in ((dict(initial_loss_weight=1.0, detach_start=True), True),
                        (dict(detach_start=True), False),
                        (dict(initial_loss_weight=1.0, detach_start=False), False)):
        head = build(head_cfg(variant='prediction', refine_mode='anchored', freeze_initial=False,
                              **extra))
        missing, unexpected = head.load_state_dict(control.state_dict(), strict=False)
        assert not unexpected and all(k.split('.')[0] not in stage for k in missing)
        grads = first_stage_grads(head)
        assert grads.keys() == ref.keys()
        close = all(torch.allclose(grads[k], ref[k], rtol=1e-4, atol=1e-7) for k in ref)
        assert close == same, extra
        if same:
            assert any(p.grad is not None and float(p.grad.abs().max()) > 0
                       for p in head.final_heads.parameters())


def test_eval_and_train_switches_keep_the_stage_frozen():
    head = build(head_cfg(variant='prediction', refine_mode='anchored', freeze_initial=True))
    head.eval()
    assert not head.denoiser.training
    head.train()
    assert head.denoiser.training and not head.prelim_decoders.training
    assert not head.fusion.training
