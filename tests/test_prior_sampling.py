"""Unconditional sampling (mgps.prior_sampling): on a Gaussian prior with its exact denoiser,
DDPM and DDIM draw the prior, and the first noise is the library's initial noise."""

import torch

from mgps import gaussian_prior, initial_noise
from mgps.prior_sampling import prior_samples
from mgps.schedules import ddpm_step, spaced_timesteps


def _prior():
    mean = torch.tensor([1.0, -2.0, 0.5])
    cov = torch.diag(torch.tensor([0.25, 1.0, 4.0]))
    return gaussian_prior(mean, cov), mean, cov


def test_ddpm_and_ddim_draw_the_gaussian_prior():
    # With few steps the chain's variance falls short (the last step returns the denoiser's
    # mean); with all 1000 noise levels it is the prior's.
    prior, mean, cov = _prior()
    for eta_ddim in (1.0, 0.0):
        x = prior_samples(
            prior,
            4000,
            num_steps=1000,
            eta_ddim=eta_ddim,
            generator=torch.Generator().manual_seed(0),
        ).double()
        sd = cov.diagonal().sqrt()
        # means within 4 standard errors, variances within 8 %
        assert ((x.mean(0) - mean).abs() < 4 * sd / 4000**0.5).all(), (eta_ddim, x.mean(0))
        assert ((x.var(0) / cov.diagonal() - 1).abs() < 0.08).all(), (eta_ddim, x.var(0))


def test_the_chain_starts_from_the_initial_noise():
    prior, _, _ = _prior()
    # two steps with DDIM (deterministic): the x̂0 at τ_1 of one DDIM move from the noise
    noise = initial_noise(prior, 5, torch.Generator().manual_seed(7))
    x = prior_samples(prior, 5, num_steps=2, generator=torch.Generator().manual_seed(7))
    again = prior_samples(prior, 5, num_steps=2, generator=torch.Generator().manual_seed(7))
    other = prior_samples(prior, 5, num_steps=2, generator=torch.Generator().manual_seed(8))
    timesteps = spaced_timesteps(prior.alphas_cumprod.numel() - 1, 2)
    t, t_prev = timesteps[2], timesteps[1]
    moved = ddpm_step(prior.alphas_cumprod, t_prev, t, noise, prior.x0_pred(noise, t), None, 0.0)
    torch.testing.assert_close(x, prior.x0_pred(moved, t_prev))
    assert torch.equal(x, again) and not torch.equal(x, other)
