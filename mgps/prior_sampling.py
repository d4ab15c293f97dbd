"""Unconditional sampling from a prior (DDPM / DDIM on the padded time grid, docs/algorithms.md §1.5)."""

from __future__ import annotations

import torch
from torch import Tensor

from .samplers.common import initial_noise
from .schedules import ddpm_step, spaced_timesteps
from .types import Prior

__all__ = ["prior_samples"]


@torch.no_grad()
def prior_samples(
    prior: Prior,
    num_samples: int,
    *,
    num_steps: int = 100,
    eta_ddim: float = 0.0,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Draw ``num_samples`` samples of the prior: x_T ~ N(0, I), then p_{t'|t} steps
    (η_ddim = 1: DDPM, 0: DDIM) and the final denoising D_{τ_1} (docs/algorithms.md §1.5).

    Returns ``(num_samples, *prior.shape)`` in the prior's space (latents for a latent prior).
    """
    timesteps = spaced_timesteps(prior.alphas_cumprod.numel() - 1, num_steps)
    x = initial_noise(prior, num_samples, generator)
    for i in range(num_steps, 1, -1):
        t, t_prev = timesteps[i], timesteps[i - 1]
        x = ddpm_step(prior.alphas_cumprod, t_prev, t, x, prior.x0_pred(x, t), generator, eta_ddim)
    return prior.x0_pred(x, timesteps[1])
