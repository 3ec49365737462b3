"""MTLLovaszLoss and the head's ``refine_loss_decode``."""
import pytest
import torch
from mmseg.models.losses.lovasz_loss import lovasz_softmax
from mtl_model_helpers import NYUD_TASKS, build, fake_feats, head_cfg, make_samples

from mmdmtl.models.losses import MTLCrossEntropyLoss, MTLLovaszLoss, lovasz_softmax_per_sample

TASKS = list(NYUD_TASKS)
H, W = 32, 48


@pytest.mark.parametrize('classes', ['present', 'all'])
def test_vectorised_lovasz_equals_mmseg_per_image(classes):
    """Independent reference: mmseg's lovasz_softmax, one image at a time."""
    torch.manual_seed(0)
    probs = torch.randn(4, 5, 6, 7).softmax(1)
    target = torch.randint(0, 3, (4, 6, 7))   # classes 3, 4 absent
    target[0, :2] = 255
    target[1, 0, 0] = 4
    ours = lovasz_softmax_per_sample(probs, target, present_only=classes == 'present')
    for i in range(4):
        ref = lovasz_softmax(probs[i:i + 1], target[i:i + 1], classes=classes,
                             per_image=False, ignore_index=255, reduction='none')
        torch.testing.assert_close(ours[i], ref, rtol=1e-5, atol=1e-6)
    if classes == 'present':  # 'all' counts the absent classes' false positives
        every = lovasz_softmax_per_sample(probs, target, present_only=False)
        assert not torch.allclose(ours, every)


def test_lovasz_is_zero_for_a_perfect_prediction_and_for_an_empty_sample():
    target = torch.randint(0, 4, (2, 1, 5, 5))
    target[1] = 255
    logits = 50.0 * torch.nn.functional.one_hot(target[:, 0].clamp(max=3), 4).permute(0, 3, 1, 2)
    loss = MTLLovaszLoss()(logits.float(), target)
    assert loss.shape == (2, ) and float(loss.max()) < 1e-6
    bad = MTLLovaszLoss()(-logits.float(), target)
    assert float(bad[0]) > 0.5 and float(bad[1]) == 0.0
    with pytest.raises(ValueError, match="'present' or 'all'"):
        MTLLovaszLoss(classes='some')


def test_refine_loss_replaces_the_final_loss_only():
    torch.manual_seed(0)
    cfg = head_cfg(variant='prediction', refine_mode='anchored')
    plain = build(cfg)
    torch.manual_seed(0)
    lovasz = build(dict(cfg, refine_loss_decode=dict(
        semseg=[dict(type='MTLCrossEntropyLoss'), dict(type='MTLLovaszLoss', loss_weight=2.0)])))
    lovasz.load_state_dict(plain.state_dict())
    feats, samples = fake_feats(2, H, W), make_samples(2, H, W, TASKS)
    plain.train()
    lovasz.train()
    a = plain.loss(feats, samples)
    b = lovasz.loss(feats, samples)
    for k in a:  # everything but the refined semseg loss is unchanged
        if k != 'loss_semseg':
            torch.testing.assert_close(a[k], b[k])
    # the untrained anchored refinement returns the initial logits: the extra
    # term is the Lovász loss of the initial prediction
    with torch.no_grad():
        outs = plain(feats)
    target = torch.stack([s.gt_sem_seg.data for s in samples])
    logits = torch.nn.functional.interpolate(outs['init']['semseg'], size=(H, W),
                                             mode='bilinear', align_corners=False)
    w = torch.full((2, ), 0.5)   # partial-label weights: every pair labelled, mean
    expected = ((MTLCrossEntropyLoss()(logits, target)
                 + 2.0 * MTLLovaszLoss()(logits, target)) * w).sum()
    torch.testing.assert_close(b['loss_semseg'], expected, rtol=1e-4, atol=1e-5)
    assert float(b['loss_semseg']) > float(a['loss_semseg'])


def test_bad_refine_loss_decode():
    with pytest.raises(ValueError, match="names 'sal'"):
        build(head_cfg(refine_loss_decode=dict(sal=dict(type='MTLLovaszLoss'))))
    with pytest.raises(ValueError, match='is empty'):
        build(head_cfg(refine_loss_decode=dict(semseg=[])))
    with pytest.raises(ValueError, match='semseg_repr'):
        build(head_cfg(variant='prediction', semseg_repr='softmax',
                       refine_loss_decode=dict(semseg=dict(type='MTLLovaszLoss'))))
