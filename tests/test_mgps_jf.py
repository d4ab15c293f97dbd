"""The Jacobian-free MGPS (mgps/samplers/mgps_jf.py) is exact where its derivation says it is:
on an isotropic Gaussian prior N(m, σ_d² I) the denoiser is affine with Jacobian c_ℓ I, so the
linearised surrogate is MGPS's surrogate (Example 3.2) and each midpoint is drawn from it
exactly; its samples must then have the surrogate chain's mean and full covariance. The
forward-difference variant is MGPS with each vector-Jacobian product replaced by a forward
difference, exact when the denoiser is affine with a symmetric Jacobian (any Gaussian prior),
and it passes the registry's exact-posterior checks (tests/test_samplers.py) as well."""

from __future__ import annotations

import math

import pytest
import torch

import mgps
from mgps.operators import MatrixOperator, measure
from mgps.paper.gmm import GMM_DEFAULTS
from mgps.priors import gaussian_prior
from mgps.samplers.mgps_jf import fd_denoiser, gaussian_jacobian

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
        jacobian="gaussian",
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
        jacobian="gaussian",
        warm_start=False,
        generator=torch.Generator().manual_seed(1),
    )
    assert float(((y.mean(0) - mean).abs() / std_err).max()) > 8.0


def test_mgps_jf_refuses_bad_settings(isotropic):
    prior, _, problem = isotropic
    with pytest.raises(ValueError, match="step must be one of gaussian, adam"):
        next(mgps.run("mgps_jf", prior, problem, jacobian="gaussian", step="newton"))
    with pytest.raises(ValueError, match="data_std must be a positive number"):
        next(mgps.run("mgps_jf", prior, problem, data_std=0.0))
    with pytest.raises(ValueError, match="jacobian must be one of gaussian, forward_difference"):
        next(mgps.run("mgps_jf", prior, problem, jacobian="exact"))
    with pytest.raises(ValueError, match="fd_step must be a positive number"):
        next(mgps.run("mgps_jf", prior, problem, fd_step=-1.0))


# --------------------------------------------------------------- jacobian="forward_difference"
FD = {"jacobian": "forward_difference"}
# the exact-posterior checks of tests/test_samplers.py (which runs the default, forward
# differences with MGPS's mixture configuration) for both variants: forward differences with
# MGPS's settings there, the Gaussian Jacobian with its own mixture configuration
VARIANTS = {
    "forward_difference": {**GMM_DEFAULTS["mgps"], "num_steps": 100, "num_gradient_steps": 20},
    "gaussian": {"data_std": 2.0, "midpoint": 0.7, "warm_start": False, "num_steps": 100},
}


def test_forward_difference_backward_is_the_vjp_of_a_mixture_denoiser(small_gmm_instance):
    """Tweedie's denoiser has a symmetric Jacobian, so Jv by a forward difference along v is
    the VJP Jᵀv; on the (nonlinear) mixture denoiser they agree to the difference's error."""
    prior = small_gmm_instance.prior
    g = torch.Generator().manual_seed(0)
    z = torch.randn(5, 10, generator=g, dtype=torch.float64) * 3
    v = torch.randn(5, 10, generator=g, dtype=torch.float64)
    for t in (50, 300, 800):
        zz = z.clone().requires_grad_(True)
        (vjp,) = torch.autograd.grad(prior.x0_pred(zz, t), zz, v)
        zz = z.clone().requires_grad_(True)
        (fd,) = torch.autograd.grad(fd_denoiser(prior, zz, t, 1e-6), zz, v)
        assert torch.allclose(fd, vjp, rtol=1e-3, atol=1e-5 * float(vjp.abs().max()))
        # a zero pull gives a zero gradient, not 0/0
        (zero,) = torch.autograd.grad(fd_denoiser(prior, zz, t, 1e-6), zz, torch.zeros_like(v))
        assert not zero.any()


def test_forward_difference_is_mgps_on_a_gaussian_prior():
    """On a full-covariance Gaussian the denoiser is affine with a symmetric Jacobian: the
    forward difference is the VJP up to rounding, and the sampler is MGPS draw for draw."""
    g = torch.Generator().manual_seed(0)
    d = 6
    L = torch.randn(d, d, generator=g, dtype=torch.float64)
    prior = gaussian_prior(
        torch.randn(d, generator=g, dtype=torch.float64),
        L @ L.T / d + 0.5 * torch.eye(d, dtype=torch.float64),
    )
    op = MatrixOperator(torch.randn(3, d, generator=g, dtype=torch.float64))
    problem = measure(prior.sample(1, g), op, 0.3, g)
    kw = {"num_samples": 50, "num_steps": 30, "lr": 0.1}
    ref = mgps.sample("mgps", prior, problem, generator=torch.Generator().manual_seed(3), **kw)
    x = mgps.sample(
        "mgps_jf", prior, problem, generator=torch.Generator().manual_seed(3), **FD, **kw
    )
    assert torch.allclose(x, ref, atol=1e-8)
    # the check can fail: the Gaussian-Jacobian variant is another sampler
    y = mgps.sample(
        "mgps_jf",
        prior,
        problem,
        generator=torch.Generator().manual_seed(3),
        jacobian="gaussian",
        **kw,
    )
    assert float((y - ref).abs().max()) > 0.1


@pytest.mark.parametrize("jacobian", VARIANTS)
def test_variant_is_close_to_the_exact_mixture_posterior(jacobian, small_gmm_instance):
    """tests/test_samplers.py::test_sampler_is_close_to_exact_posterior for each variant."""
    inst = small_gmm_instance
    g = torch.Generator().manual_seed(10)
    posterior = inst.posterior.sample(1000, g)
    prior_sw = mgps.sliced_wasserstein(inst.prior.sample(1000, g), posterior)
    x = mgps.sample(
        "mgps_jf",
        inst.prior,
        inst.problem,
        num_samples=1000,
        generator=torch.Generator().manual_seed(11),
        jacobian=jacobian,
        **VARIANTS[jacobian],
    )
    sw = mgps.sliced_wasserstein(x, posterior)
    assert sw < 0.3 * prior_sw, f"SW {sw:.3f} vs prior {prior_sw:.3f}"


@pytest.mark.parametrize("jacobian", VARIANTS)
def test_variant_is_close_to_an_exact_gaussian_posterior(jacobian):
    """tests/test_samplers.py::test_sampler_is_close_to_an_exact_gaussian_posterior for each."""
    from mgps.paper.validate import gaussian_problem

    exact = gaussian_problem(6, 3, 0.3, seed=0)
    prior, post = exact.prior, exact.posterior
    x = mgps.sample(
        "mgps_jf",
        prior,
        exact.problem,
        num_samples=1000,
        generator=torch.Generator().manual_seed(1),
        jacobian=jacobian,
        **VARIANTS[jacobian],
    )
    w2 = mgps.gaussian_w2(x.mean(0), torch.cov(x.T), post.mean(), post.covariance())
    prior_w2 = mgps.gaussian_w2(prior.mean(), prior.covariance(), post.mean(), post.covariance())
    assert w2 < 0.25 * prior_w2, f"W2 {w2:.3f} vs prior {prior_w2:.3f}"
