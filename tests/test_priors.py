import math

import pytest
import torch

import mgps
from mgps.priors import GaussianMixturePrior, gaussian_prior, gmm25

f64 = torch.float64


def _random_mixture(kind: str, g: torch.Generator) -> GaussianMixturePrior:
    C, d = 3, 5
    weights = torch.rand(C, generator=g, dtype=f64)
    means = 3 * torch.randn(C, d, generator=g, dtype=f64)
    if kind == "identity":
        return GaussianMixturePrior(weights, means)
    if kind == "isotropic":
        return GaussianMixturePrior(weights, means, torch.tensor([0.5, 1.0, 2.0], dtype=f64))
    if kind == "full":
        L = torch.randn(C, d, d, generator=g, dtype=f64)
        return GaussianMixturePrior(
            weights, means, L @ L.transpose(1, 2) + 0.1 * torch.eye(d, dtype=f64)
        )
    # low rank: k = 2 directions plus isotropic noise
    basis = torch.linalg.qr(torch.randn(C, d, 2, generator=g, dtype=f64))[0]
    return GaussianMixturePrior.low_rank(
        weights,
        means,
        basis,
        torch.rand(C, 2, generator=g, dtype=f64) * 4,
        torch.tensor([0.2, 0.3, 0.5], dtype=f64),
    )


@pytest.mark.parametrize("kind", ["identity", "isotropic", "full", "low_rank"])
@pytest.mark.parametrize("t", [1, 50, 400, 999])
def test_denoiser_is_tweedie_of_the_noised_density(kind, t):
    """D_t(x) = (x + (1 − a) ∇ log p_t(x)) / √a with ∇ log p_t from autograd."""
    g = torch.Generator().manual_seed(1)
    prior = _random_mixture(kind, g)
    a = float(prior.alphas_cumprod[t])
    x = (
        math.sqrt(a) * prior.sample(6, g)
        + math.sqrt(1 - a) * torch.randn(6, 5, generator=g, dtype=f64)
    ).requires_grad_(True)
    (score,) = torch.autograd.grad(prior.log_prob_t(x, t).sum(), x)
    tweedie = (x + (1 - a) * score) / math.sqrt(a)
    assert torch.allclose(prior.x0_pred(x, t), tweedie, atol=1e-8, rtol=1e-6)


@pytest.mark.parametrize("kind", ["identity", "full", "low_rank"])
def test_log_prob_and_sampling_agree(kind):
    g = torch.Generator().manual_seed(2)
    prior = _random_mixture(kind, g)
    x = prior.sample(40_000, g)
    assert torch.allclose(x.mean(0), prior.mean(), atol=0.1)
    assert torch.allclose(torch.cov(x.T), prior.covariance(), atol=0.25, rtol=0.05)
    # log_prob_t at t = 0 is the clean density: it integrates the same as samples' likelihood ratio test
    assert torch.allclose(prior.log_prob_t(x[:5], 0), prior.log_prob(x[:5]))


def test_posterior_matches_importance_sampling():
    g = torch.Generator().manual_seed(3)
    prior = _random_mixture("full", g)
    A = torch.randn(2, 5, generator=g, dtype=f64)
    sigma_y = 0.8
    y = prior.sample(1, g) @ A.T + sigma_y * torch.randn(1, 2, generator=g, dtype=f64)
    post = prior.posterior(A, y, sigma_y)
    x = prior.sample(400_000, g)
    logw = -((y - x @ A.T) ** 2).sum(1) / (2 * sigma_y**2)
    w = torch.softmax(logw, 0)
    is_mean = (w[:, None] * x).sum(0)
    assert torch.allclose(post.mean(), is_mean, atol=0.05)
    is_cov = (w[:, None, None] * (x - is_mean)[:, :, None] * (x - is_mean)[:, None, :]).sum(0)
    assert torch.allclose(post.covariance(), is_cov, atol=0.15)


def test_gaussian_prior_posterior_closed_form():
    g = torch.Generator().manual_seed(4)
    d = 4
    L = torch.randn(d, d, generator=g, dtype=f64)
    cov = L @ L.T + torch.eye(d, dtype=f64)
    mean = torch.randn(d, generator=g, dtype=f64)
    prior = gaussian_prior(mean, cov)
    A = torch.randn(3, d, generator=g, dtype=f64)
    y = torch.randn(1, 3, generator=g, dtype=f64)
    post = prior.posterior(A, y, 0.3)
    prec = torch.linalg.inv(cov) + A.T @ A / 0.09
    exp_cov = torch.linalg.inv(prec)
    exp_mean = exp_cov @ (torch.linalg.solve(cov, mean) + A.T @ y[0] / 0.09)
    assert torch.allclose(post.mean(), exp_mean, atol=1e-8)
    assert torch.allclose(post.covariance(), exp_cov, atol=1e-8)
    # affine denoiser of a Gaussian (Appendix B.1; docs/algorithms.md §8)
    t = 300
    a = float(prior.alphas_cumprod[t])
    cov0 = torch.linalg.solve(torch.eye(d, dtype=f64) + a / (1 - a) * cov, cov)
    x = torch.randn(2, d, generator=g, dtype=f64)
    expected = (math.sqrt(a) / (1 - a)) * x @ cov0.T + cov0 @ torch.linalg.solve(cov, mean)
    assert torch.allclose(prior.x0_pred(x, t), expected, atol=1e-8)


def test_gmm25_layout():
    prior = gmm25(6, torch.Generator().manual_seed(0))
    assert prior.means.shape == (25, 6) and math.isclose(float(prior.weights.sum()), 1.0)
    assert torch.equal(prior.means[0], torch.tensor([-16.0, -16.0] * 3, dtype=f64))
    assert torch.equal(prior.means[:, 0:2], prior.means[:, 2:4])
    with pytest.raises(ValueError, match="even dimension"):
        gmm25(5)


def test_bad_mixture_arguments():
    with pytest.raises(ValueError, match="weights"):
        GaussianMixturePrior(torch.ones(3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="non-negative"):
        GaussianMixturePrior(-torch.ones(2), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="covs must be"):
        GaussianMixturePrior(torch.ones(2), torch.zeros(2, 4), torch.ones(2, 3, 3))
    with pytest.raises(ValueError, match="positive semi-definite"):
        GaussianMixturePrior(torch.ones(1), torch.zeros(1, 2), -torch.eye(2)[None])


def test_float32_denoiser_matches_float64():
    prior = gmm25(20, torch.Generator().manual_seed(0))
    x = torch.randn(8, 20, generator=torch.Generator().manual_seed(1), dtype=f64) * 5
    assert torch.allclose(prior.x0_pred(x.float(), 500).double(), prior.x0_pred(x, 500), atol=1e-3)
    assert mgps.GaussianMixturePrior is GaussianMixturePrior
