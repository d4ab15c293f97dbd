"""Every registered sampler: the stream contract, argument checks, and closeness to an exact
posterior (a Gaussian mixture), which these tests can fail."""

from __future__ import annotations

import math

import pytest
import torch

import mgps
from mgps.operators import MatrixOperator, measure
from mgps.paper.gmm import GMM_DEFAULTS
from mgps.priors import gaussian_prior, gmm25
from mgps.types import SamplerDivergedError

SAMPLERS = mgps.SAMPLERS.names(
    with_tag="pixel"
)  # samplers that run on pixel-space (and exact) priors
FAST = {"num_steps": 20}


class SquareOperator:
    """A small nonlinear operator for capability checks: y = x²."""

    linear = False
    name = "square"

    def A(self, x):
        return x**2

    def A_pinv(self, y):
        return y.clamp_min(0).sqrt()


@pytest.fixture(scope="module")
def toy():
    prior = gmm25(4, torch.Generator().manual_seed(0))
    op = MatrixOperator(
        torch.randn(2, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    )
    problem = measure(
        prior.sample(1, torch.Generator().manual_seed(2)), op, 0.5, torch.Generator().manual_seed(3)
    )
    return prior, problem


@pytest.mark.parametrize("name", SAMPLERS)
def test_stream_contract(name, toy):
    prior, problem = toy
    steps = list(
        mgps.run(
            name, prior, problem, num_samples=3, generator=torch.Generator().manual_seed(0), **FAST
        )
    )
    assert len(steps) == FAST["num_steps"]
    assert [s.index for s in steps] == list(range(FAST["num_steps"]))
    # time never goes back up and ends at 0 (a split-Gibbs sampler such as PnP-DM may hold its
    # noise level for several iterations, so "never up" rather than "always down")
    assert steps[0].t > 0 and steps[-1].t == 0 and all(a.t >= b.t for a, b in zip(steps, steps[1:]))
    for s in steps:
        assert s.x_t.shape == (3, 4) and s.x0_hat.shape == (3, 4)
        assert torch.isfinite(s.x_t).all() and torch.isfinite(s.x0_hat).all()
        assert not s.x0_hat.requires_grad
    if name == "mgps":
        assert all("midpoint" in s.extras for s in steps[:-1])


@pytest.mark.parametrize("name", SAMPLERS)
def test_seeding(name, toy):
    prior, problem = toy

    def draw(seed):
        return mgps.sample(
            name,
            prior,
            problem,
            num_samples=4,
            generator=torch.Generator().manual_seed(seed),
            **FAST,
        )

    assert torch.equal(draw(0), draw(0))
    assert not torch.allclose(draw(0), draw(1))


@pytest.mark.parametrize("name", SAMPLERS)
def test_shared_initial_noise(name, toy):
    prior, problem = toy
    x_init = torch.randn(2, 4, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    steps = list(
        mgps.run(
            name, prior, problem, x_init=x_init, generator=torch.Generator().manual_seed(0), **FAST
        )
    )
    assert steps[-1].x0_hat.shape == (2, 4)
    with pytest.raises(ValueError, match="x_init must have shape"):
        list(mgps.run(name, prior, problem, x_init=torch.zeros(2, 5), **FAST))


@pytest.mark.parametrize("name", SAMPLERS)
@pytest.mark.parametrize("steps", [0, 1, 5000, 2.5])
def test_absurd_step_counts_are_refused(name, steps, toy):
    prior, problem = toy
    with pytest.raises(ValueError, match="num_steps must be"):
        next(mgps.run(name, prior, problem, num_steps=steps))


def test_bad_arguments_have_clear_messages(toy):
    prior, problem = toy
    with pytest.raises(ValueError, match="midpoint must lie in"):
        next(mgps.run("mgps", prior, problem, midpoint=1.5))
    with pytest.raises(ValueError, match="lr must be positive"):
        next(mgps.run("mgps", prior, problem, lr=0))
    with pytest.raises(ValueError, match="num_samples"):
        next(mgps.run("dps", prior, problem, num_samples=0))
    with pytest.raises(TypeError, match="InverseProblem"):
        next(mgps.run("dps", prior, object()))


@pytest.mark.parametrize("name", ["ddnm", "diffpir"])
def test_linear_samplers_refuse_nonlinear_operators(name, toy):
    prior, _ = toy
    problem = mgps.InverseProblem(SquareOperator(), torch.ones(1, 4, dtype=torch.float64), 0.1)
    with pytest.raises(
        ValueError,
        match=r"needs a linear operator; 'square' is nonlinear\. Samplers that can run it: daps, dcps, dps, mgps, mgps_jf, pgdm, pnpdm, reddiff",
    ):
        next(mgps.run(name, prior, problem, num_steps=5))


@pytest.mark.parametrize(
    "name", sorted(set(SAMPLERS) & set(mgps.SAMPLERS.names(with_tag="nonlinear")))
)
def test_nonlinear_capable_samplers_run_on_a_nonlinear_operator(name, toy):
    prior, _ = toy
    problem = mgps.InverseProblem(
        SquareOperator(), torch.full((1, 4), 4.0, dtype=torch.float64), 0.5
    )
    x = mgps.sample(
        name, prior, problem, num_samples=2, generator=torch.Generator().manual_seed(0), **FAST
    )
    assert torch.isfinite(x).all()


def test_divergence_is_reported_not_returned(toy):
    prior, problem = toy
    with pytest.raises(
        SamplerDivergedError, match=r"DPS diverged at step \d+/50: .* Try a smaller step_size"
    ):
        mgps.sample(
            "dps",
            prior,
            problem,
            num_steps=50,
            step_size=1e308,
            num_samples=2,
            generator=torch.Generator().manual_seed(0),
        )


# ---------------------------------------------------------------------------------------------
# Exact-posterior checks: d = 10, d_y = 3, the 25-component mixture, 1000 samples.

EXACT_SETTINGS = {
    "mgps": {**GMM_DEFAULTS["mgps"], "num_steps": 100, "num_gradient_steps": 20},
    "mgps_jf": {**GMM_DEFAULTS["mgps_jf"], "num_steps": 100},
    "dps": {"num_steps": 500},
    "pgdm": {"num_steps": 300},
    "ddnm": {"num_steps": 300},
    "diffpir": {"num_steps": 300},
    "reddiff": {"num_steps": 1000},
    # slower annealing than the defaults (500 levels, 2 ODE steps): DAPS's Gaussian
    # p(x_0 | x_t) ≈ N(x̂_0, σ_t² I) picks the mixture's modes badly when it anneals fast
    "daps": {"num_steps": 500, "ode_steps": 2, "langevin_steps": 50, "lr": 3e-3},
    # slow coupling decay: the split Gibbs chain cannot cross between modes 8 apart once ρ is
    # small, so the mode weights freeze at the ρ where it stops crossing
    "pnpdm": {"num_steps": 300, "rho_decay": 0.98, "rho_min": 0.1},
    "dcps": {"num_steps": 300, "lr": 0.2},  # the normalised step is a length in d = 10
}


@pytest.fixture(scope="module")
def exact_reference(small_gmm_instance):
    inst = small_gmm_instance
    g = torch.Generator().manual_seed(10)
    posterior = inst.posterior.sample(1000, g)
    prior_sw = mgps.sliced_wasserstein(inst.prior.sample(1000, g), posterior)
    floor = mgps.sliced_wasserstein(inst.posterior.sample(1000, g), posterior)
    return posterior, prior_sw, floor


def test_reference_scale(exact_reference):
    _, prior_sw, floor = exact_reference
    assert prior_sw > 5.0 and floor < 0.2  # the prior is far from the posterior; the floor is small


@pytest.mark.parametrize("name", SAMPLERS)
def test_sampler_is_close_to_exact_posterior(name, small_gmm_instance, exact_reference):
    posterior, prior_sw, _ = exact_reference
    inst = small_gmm_instance
    x = mgps.sample(
        name,
        inst.prior,
        inst.problem,
        num_samples=1000,
        generator=torch.Generator().manual_seed(11),
        **EXACT_SETTINGS[name],
    )
    sw = mgps.sliced_wasserstein(x, posterior)
    assert sw < 0.3 * prior_sw, f"{name}: SW {sw:.3f} vs prior {prior_sw:.3f}"


def test_mgps_matches_its_exact_surrogate_on_a_gaussian_prior():
    """On a Gaussian prior with a linear likelihood, MGPS's surrogate chain is Gaussian and its
    moments are known exactly (Example 3.2's recursion). A diagonal variational fit recovers
    the exact mean of each midpoint law, so once the fit has converged the sampler's mean must
    equal the recursion's mean, which differs measurably from the true posterior mean."""
    from mgps.paper.gaussian_eta import GaussianInstance, surrogate_moments

    g = torch.Generator().manual_seed(0)
    d = 6
    L = torch.randn(d, d, generator=g, dtype=torch.float64)
    mean, cov = (
        torch.randn(d, generator=g, dtype=torch.float64),
        L @ L.T / d + 0.5 * torch.eye(d, dtype=torch.float64),
    )
    prior = gaussian_prior(mean, cov)
    op = MatrixOperator(torch.randn(3, d, generator=g, dtype=torch.float64))
    problem = measure(prior.sample(1, g), op, 0.3, g)
    surrogate_mean, surrogate_cov = surrogate_moments(
        GaussianInstance(mean, cov, op.matrix, problem.y[0], 0.3), 0.5, 50
    )
    n = 2000
    x = mgps.sample(
        "mgps",
        prior,
        problem,
        num_samples=n,
        generator=g,
        num_steps=50,
        lr=0.1,
        midpoint=0.5,
        warm_start=False,
        num_gradient_steps=50,
        num_gradient_steps_initial=50,
        num_gradient_steps_periodic=50,
    )
    std_err = x.std(0) / math.sqrt(n)
    assert float(((x.mean(0) - surrogate_mean).abs() / std_err).max()) < 4.0
    assert torch.allclose(x.std(0), surrogate_cov.diagonal().sqrt(), rtol=0.1)
    post = prior.posterior(op.matrix, problem.y, 0.3)
    assert (
        float(((post.mean() - surrogate_mean).abs() / std_err).max()) > 8.0
    )  # the check can tell them apart


_POINT_ESTIMATE = pytest.mark.xfail(
    strict=True, reason="RED-diff fits one point per sample: its spread is not the posterior's"
)


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=_POINT_ESTIMATE) if n == "reddiff" else n for n in SAMPLERS]
)
def test_sampler_is_close_to_an_exact_gaussian_posterior(name):
    """A full-covariance Gaussian prior (d = 6, d_y = 3): the Gaussian W2 between the samples'
    moments and the exact posterior's must be a small fraction of the prior's (2.99 here; the
    Monte-Carlo floor with 1000 samples is about 0.09)."""
    from mgps.paper.validate import gaussian_problem

    exact = gaussian_problem(6, 3, 0.3, seed=0)
    prior, post = exact.prior, exact.posterior
    x = mgps.sample(
        name,
        prior,
        exact.problem,
        num_samples=1000,
        generator=torch.Generator().manual_seed(1),
        **EXACT_SETTINGS[name],
    )
    w2 = mgps.gaussian_w2(x.mean(0), torch.cov(x.T), post.mean(), post.covariance())
    prior_w2 = mgps.gaussian_w2(prior.mean(), prior.covariance(), post.mean(), post.covariance())
    assert w2 < 0.25 * prior_w2, f"{name}: W2 {w2:.3f} vs prior {prior_w2:.3f}"
