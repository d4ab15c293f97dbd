"""The Jacobian-free MGPS (mgps/samplers/mgps_jf.py) is exact where its derivation says it is:
on an isotropic Gaussian prior N(m, σ_d² I) the denoiser is affine with Jacobian c_ℓ I, so the
linearised surrogate is MGPS's surrogate (Example 3.2) and each midpoint is drawn from it
exactly; its samples must then have the surrogate chain's mean and full covariance."""

from __future__ import annotations

import math

import pytest
import torch

import mgps
from mgps.operators import MatrixOperator, measure
from mgps.priors import gaussian_prior
from mgps.samplers.mgps_jf import gaussian_jacobian

SIGMA_D = 2.0


@pytest.fixture(scope="module")
def isotropic():
    g = torch.Generator().manual_seed(0)
    d = 6
    prior = gaussian_prior(
        torch.randn(d, generator=g, dtype=torch.float64),
        SIGMA_D**2 * torch.eye(d, dtype=torch.float64),
    )
    op = MatrixOperator(torch.randn(3, d, generator=g, dtype=torch.float64))
    return prior, op, measure(prior.sample(1, g), op, 0.3, g)


@pytest.mark.parametrize("t", [1, 50, 400, 900])
def test_gaussian_jacobian_is_the_isotropic_priors_jacobian(isotropic, t):
    prior, _, _ = isotropic
    x = torch.randn(1, 6, dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(lambda v: prior.x0_pred(v, t)[0], x)[:, 0]
    c = gaussian_jacobian(float(prior.alphas_cumprod[t]), SIGMA_D)
    assert torch.allclose(jac, c * torch.eye(6, dtype=torch.float64), atol=1e-8)


def test_mgps_jf_draws_mgps_surrogate_exactly_on_an_isotropic_gaussian(isotropic):
    from mgps.paper.gaussian_eta import GaussianInstance, surrogate_moments

    prior, op, problem = isotropic
    mean, cov = surrogate_moments(
        GaussianInstance(prior.mean(), prior.covariance(), op.matrix, problem.y[0], 0.3), 0.5, 50
    )
    n = 4000
    x = mgps.sample(
        "mgps_jf",
        prior,
        problem,
        num_samples=n,
        num_steps=50,
        midpoint=0.5,
        data_std=SIGMA_D,
        warm_start=False,
        generator=torch.Generator().manual_seed(1),
    )
    std_err = cov.diagonal().sqrt() / math.sqrt(n)
    assert float(((x.mean(0) - mean).abs() / std_err).max()) < 4.0
    assert torch.allclose(torch.cov(x.T), cov, atol=0.05 * float(cov.diagonal().max()))
    # the check can fail: a Jacobian 10x too small (σ_d / 10) lands far from the surrogate
    # (one too large moves the samples much less: c_ℓ saturates at 1/√a_ℓ)
    y = mgps.sample(
        "mgps_jf",
        prior,
        problem,
        num_samples=n,
        num_steps=50,
        midpoint=0.5,
        data_std=SIGMA_D / 10,
        warm_start=False,
        generator=torch.Generator().manual_seed(1),
    )
    assert float(((y.mean(0) - mean).abs() / std_err).max()) > 8.0


def test_mgps_jf_refuses_bad_settings(isotropic):
    prior, _, problem = isotropic
    with pytest.raises(ValueError, match="step must be one of gaussian, adam"):
        next(mgps.run("mgps_jf", prior, problem, step="newton"))
    with pytest.raises(ValueError, match="data_std must be a positive number"):
        next(mgps.run("mgps_jf", prior, problem, data_std=0.0))
