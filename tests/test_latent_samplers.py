"""Latent-prior samplers (MGPS's latent variant, DPS, PSLD, ReSample, DAPS, PnP-DM) against an
exact posterior.

A Gaussian-mixture prior on a latent z with a *linear* decoder x = W z is a latent diffusion
model whose posterior is known exactly: observing y = A W z + noise is a linear problem in z.
"""

from __future__ import annotations

import pytest
import torch

import mgps
from mgps.operators import MatrixOperator, measure
from mgps.priors import gmm25

LATENT = mgps.SAMPLERS.names(with_tag="latent")
f64 = torch.float64


class LinearLatentPrior:
    """A latent prior with a linear autoencoder: decode(z) = W z, encode(x) = W⁺ x."""

    def __init__(self, latent_prior, decoder: torch.Tensor) -> None:
        self.latent_prior = latent_prior
        self.W = decoder
        self.W_pinv = torch.linalg.pinv(decoder)
        self.alphas_cumprod = latent_prior.alphas_cumprod
        self.shape = latent_prior.shape
        self.dtype = latent_prior.dtype
        self.device = latent_prior.device

    def x0_pred(self, z, t):
        return self.latent_prior.x0_pred(z, t)

    def decode(self, z):
        return z @ self.W.T

    def encode(self, x):
        return x @ self.W_pinv.T


@pytest.fixture(scope="module")
def latent_problem():
    g = torch.Generator().manual_seed(0)
    latent = gmm25(4, g)
    W = torch.randn(6, 4, generator=g, dtype=f64) / 2
    prior = LinearLatentPrior(latent, W)
    A = torch.zeros(3, 6, dtype=f64)
    A[0, 0] = A[1, 2] = A[2, 5] = 1.0  # observe 3 of 6 "pixels": a mask
    op = MatrixOperator(A)
    z_star = latent.sample(1, g)
    problem = measure(prior.decode(z_star), op, 0.3, g)
    posterior = latent.posterior(A @ W, problem.y, 0.3)
    return prior, problem, posterior


SETTINGS = {
    "mgps": {
        "num_steps": 100,
        "lr": 0.1,
        "warm_start": False,
        "num_gradient_steps": 10,
        "num_gradient_steps_initial": 20,
        "midpoint_late": 1.0,
    },
    "dps": {"num_steps": 500, "step_size": 0.5},
    "psld": {"num_steps": 500, "measurement_weight": 0.5, "gluing_weight": 0.1},
    "resample": {"num_steps": 500},
    # few, large Langevin steps: each goes through the decoder with autograd
    "daps": {"num_steps": 100, "ode_steps": 2, "langevin_steps": 20, "lr": 1e-2},
    "pnpdm": {"num_steps": 60, "rho_min": 0.1, "langevin_steps": 20, "langevin_lr": 1e-2},
}


@pytest.mark.parametrize("name", LATENT)
def test_latent_sampler_is_close_to_exact_posterior(name, latent_problem):
    prior, problem, posterior = latent_problem
    g = torch.Generator().manual_seed(1)
    reference = posterior.sample(1000, g)
    prior_sw = mgps.sliced_wasserstein(prior.latent_prior.sample(1000, g), reference)
    z = mgps.sample(
        name,
        prior,
        problem,
        num_samples=1000,
        generator=torch.Generator().manual_seed(2),
        **SETTINGS[name],
    )
    sw = mgps.sliced_wasserstein(z, reference)
    assert sw < 0.3 * prior_sw, f"{name}: SW {sw:.3f} vs prior {prior_sw:.3f}"


@pytest.mark.parametrize("name", LATENT)
def test_latent_stream_contract(name, latent_problem):
    prior, problem, _ = latent_problem
    steps = list(
        mgps.run(
            name,
            prior,
            problem,
            num_steps=12,
            num_samples=2,
            generator=torch.Generator().manual_seed(0),
        )
    )
    assert len(steps) == 12 and steps[-1].t == 0
    assert all(torch.isfinite(s.x0_hat).all() and s.x0_hat.shape == (2, 4) for s in steps)


@pytest.mark.parametrize("name", sorted(set(mgps.SAMPLERS.names()) - set(LATENT)))
def test_pixel_samplers_refuse_latent_priors(name, latent_problem):
    prior, problem, _ = latent_problem
    with pytest.raises(
        ValueError,
        match="works on pixel-space priors; this prior is a latent diffusion model. Samplers for latent priors: daps, dps, mgps, pnpdm, psld, resample",
    ):
        next(mgps.run(name, prior, problem, num_steps=5))


@pytest.mark.parametrize("name", sorted(set(LATENT) - set(mgps.SAMPLERS.names(with_tag="pixel"))))
def test_latent_only_samplers_refuse_pixel_priors(name):
    prior = gmm25(4)
    problem = measure(prior.sample(1), MatrixOperator(torch.eye(4, dtype=f64)), 0.1)
    with pytest.raises(ValueError, match="needs a latent diffusion prior"):
        next(mgps.run(name, prior, problem, num_steps=5))


def test_psld_refuses_nonlinear_operators(latent_problem):
    prior, _, _ = latent_problem

    class Clip:
        linear, name = False, "clip"

        def A(self, x):
            return x.clamp(-1, 1)

        def A_pinv(self, y):
            return y

    problem = mgps.InverseProblem(Clip(), torch.zeros(1, 6, dtype=f64), 0.1)
    with pytest.raises(ValueError, match="PSLD needs a linear operator; 'clip' is nonlinear"):
        next(mgps.run("psld", prior, problem, num_steps=5))
