"""DiffusionScheduler constants and steps."""
import pytest
import torch

from mmdmtl.models.utils import DiffusionScheduler


def test_t2_constants_match_official():
    s = DiffusionScheduler(2)
    torch.testing.assert_close(s.betas, torch.tensor([1e-3, 1e-2]))
    torch.testing.assert_close(s.alphas_cumprod, torch.tensor([0.999, 0.98901]))
    # start state 0.99449 * x0 + 0.10483 * eps
    x0, eps = torch.ones(1), torch.zeros(1)
    assert s.start_state(x0, eps).item() == pytest.approx(0.99449, abs=1e-5)
    assert s.start_state(torch.zeros(1), torch.ones(1)).item() == pytest.approx(0.10483, abs=1e-5)
    assert s.posterior_std[1].item() == pytest.approx(0.0302, abs=1e-4)
    assert s.posterior_variance[0].item() == 0.0


def test_t3_betas_and_t1():
    torch.testing.assert_close(DiffusionScheduler(3).betas,
                               torch.tensor([0.001, 0.00433, 0.01]), atol=1e-5, rtol=0)
    s1 = DiffusionScheduler(1)
    assert s1.betas.tolist() == pytest.approx([1e-3])


def test_posterior_step_is_ddpm_posterior():
    s = DiffusionScheduler(3)
    x0_hat, x_t, z = torch.randn(4), torch.randn(4), torch.randn(4)
    ab, abp, b = s.alphas_cumprod[2], s.alphas_cumprod[1], s.betas[2]
    mean = (b * abp.sqrt() / (1 - ab)) * x0_hat + ((1 - abp) * (1 - b).sqrt() / (1 - ab)) * x_t
    std = (b * (1 - abp) / (1 - ab)).sqrt()
    torch.testing.assert_close(s.posterior_step(x0_hat, x_t, 2, z), mean + std * z)
    torch.testing.assert_close(s.posterior_step(x0_hat, x_t, 2, None), mean)
    # the posterior mean of a clean chain is the clean value
    torch.testing.assert_close(s.posterior_mean(x0_hat, s.q_sample(x0_hat, 2, 0 * z), 2),
                               s.q_sample(x0_hat, 1, 0 * z), atol=1e-3, rtol=0)


def test_bad_arguments():
    with pytest.raises(ValueError, match='num_timesteps'):
        DiffusionScheduler(0)
    with pytest.raises(ValueError, match='beta'):
        DiffusionScheduler(2, 0.1, 0.01)
    with pytest.raises(IndexError, match='out of range'):
        DiffusionScheduler(2).q_sample(torch.ones(1), 2, torch.ones(1))


def test_buffers_not_in_state_dict():
    assert len(DiffusionScheduler(2).state_dict()) == 0
