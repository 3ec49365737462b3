"""DDPM schedule with x0 parameterisation, as DiffusionMTL uses it."""
from typing import Optional

import numpy as np
import torch
from torch import Tensor, nn


class DiffusionScheduler(nn.Module):
    """Beta schedule, forward noising and DDPM posterior of DiffusionMTL.

    The schedule is linear in :math:`\\sqrt{\\beta}` (the "linear" schedule of
    latent diffusion): ``betas = linspace(sqrt(beta_start), sqrt(beta_end),
    T) ** 2``. With the defaults and ``T = 2`` this gives ``betas = [1e-3,
    1e-2]`` and ``alphas_cumprod = [0.999, 0.98901]``; ``T = 3`` gives
    ``[0.001, 0.00433, 0.01]``.

    The model predicts :math:`x_0` directly (x0 parameterisation, no
    clipping). DiffusionMTL starts the reverse chain from the *initial*
    map noised to step ``T - 1`` (:meth:`q_sample`), walks the DDPM
    posterior :math:`q(x_{t-1} | x_t, \\hat x_0)` for ``t = T-1 ... 1``
    (:meth:`posterior_step`) and returns :math:`\\hat x_0` at ``t = 0``.

    All constants are float32 buffers (computed in float64), so they follow
    the module to its device and are saved in no checkpoint (non-persistent).

    Args:
        num_timesteps: Number of diffusion steps ``T`` (>= 1).
        beta_start: First beta.
        beta_end: Last beta.
    """

    def __init__(self, num_timesteps: int = 2, beta_start: float = 1e-3,
                 beta_end: float = 1e-2) -> None:
        super().__init__()
        if int(num_timesteps) < 1:
            raise ValueError(f'num_timesteps must be >= 1, got {num_timesteps}')
        if not 0 < beta_start <= beta_end < 1:
            raise ValueError('need 0 < beta_start <= beta_end < 1, got '
                             f'{beta_start}, {beta_end}')
        self.num_timesteps = int(num_timesteps)
        betas = np.linspace(beta_start**0.5, beta_end**0.5, self.num_timesteps,
                            dtype=np.float64)**2
        alphas = 1.0 - betas
        alphas_cumprod = np.cumprod(alphas)
        alphas_cumprod_prev = np.append(1.0, alphas_cumprod[:-1])
        posterior_variance = betas * (1.0 - alphas_cumprod_prev) / (1.0 - alphas_cumprod)
        consts = dict(
            betas=betas,
            alphas_cumprod=alphas_cumprod,
            alphas_cumprod_prev=alphas_cumprod_prev,
            sqrt_alphas_cumprod=np.sqrt(alphas_cumprod),
            sqrt_one_minus_alphas_cumprod=np.sqrt(1.0 - alphas_cumprod),
            posterior_variance=posterior_variance,
            posterior_std=np.sqrt(posterior_variance),
            posterior_mean_coef1=betas * np.sqrt(alphas_cumprod_prev) / (1.0 - alphas_cumprod),
            posterior_mean_coef2=(1.0 - alphas_cumprod_prev) * np.sqrt(alphas) /
            (1.0 - alphas_cumprod),
        )
        for name, value in consts.items():
            self.register_buffer(name, torch.tensor(value, dtype=torch.float32),
                                 persistent=False)

    def _check_t(self, t: int) -> int:
        t = int(t)
        if not 0 <= t < self.num_timesteps:
            raise IndexError(f'timestep {t} out of range [0, {self.num_timesteps})')
        return t

    def q_sample(self, x0: Tensor, t: int, noise: Tensor) -> Tensor:
        """Noise ``x0`` to step ``t``: ``sqrt(abar_t) x0 + sqrt(1 - abar_t) noise``."""
        t = self._check_t(t)
        # fp32 even under autocast: the coefficients differ from 1 by ~1e-3
        return (self.sqrt_alphas_cumprod[t] * x0.float() +
                self.sqrt_one_minus_alphas_cumprod[t] * noise.float())

    def start_state(self, x0: Tensor, noise: Tensor) -> Tensor:
        """The chain's start: ``x0`` noised to the last step ``T - 1``."""
        return self.q_sample(x0, self.num_timesteps - 1, noise)

    def posterior_mean(self, x0_hat: Tensor, x_t: Tensor, t: int) -> Tensor:
        """Mean of the DDPM posterior :math:`q(x_{t-1} | x_t, \\hat x_0)`."""
        t = self._check_t(t)
        return (self.posterior_mean_coef1[t] * x0_hat.float() +
                self.posterior_mean_coef2[t] * x_t.float())

    def posterior_step(self, x0_hat: Tensor, x_t: Tensor, t: int,
                       noise: Optional[Tensor] = None) -> Tensor:
        """Sample :math:`x_{t-1}` from the posterior (no noise at ``t = 0``
        or when ``noise`` is None)."""
        mean = self.posterior_mean(x0_hat, x_t, t)
        if noise is None or t == 0:
            return mean
        return mean + self.posterior_std[t] * noise.float()

    def extra_repr(self) -> str:
        return f'num_timesteps={self.num_timesteps}'
