import math

import pytest
import torch

from mgps.priors import default_toy_alphas_cumprod
from mgps.schedules import (
    bridge_coefficients,
    bridge_sample,
    eps_from_x0,
    padded_alphas_cumprod,
    spaced_timesteps,
    x0_from_eps,
    x0_from_v,
)


def test_padded_alphas_cumprod():
    acp = default_toy_alphas_cumprod()
    assert acp.shape == (1001,) and acp[0] == 1.0
    assert bool((acp[1:] < acp[:-1]).all())
    assert math.isclose(float(acp[1]), 0.9999, rel_tol=1e-12)
    with pytest.raises(ValueError, match="non-increasing"):
        padded_alphas_cumprod(torch.tensor([0.5, 0.9]))


def test_spaced_timesteps():
    ts = spaced_timesteps(1000, 50)
    assert ts[0] == 0 and ts[-1] == 1000 and len(ts) == 51 and ts[1] == 20
    assert spaced_timesteps(1000, 1000) == list(range(1001))
    assert all(b > a for a, b in zip(ts, ts[1:]))
    for bad in (0, 1, 1001, 2.5):
        with pytest.raises(ValueError, match="num_steps"):
            spaced_timesteps(1000, bad)


def test_tweedie_conversions_roundtrip(rng):
    x0, eps = torch.randn(4, 3, generator=rng), torch.randn(4, 3, generator=rng)
    a = 0.3
    x_t = math.sqrt(a) * x0 + math.sqrt(1 - a) * eps
    assert torch.allclose(x0_from_eps(x_t, eps, a), x0, atol=1e-6)
    assert torch.allclose(eps_from_x0(x_t, x0, a), eps, atol=1e-6)
    v = math.sqrt(a) * eps - math.sqrt(1 - a) * x0
    assert torch.allclose(x0_from_v(x_t, v, a), x0, atol=1e-6)


def test_bridge_is_the_ddpm_posterior_for_s_zero():
    acp = default_toy_alphas_cumprod()
    t, u = 300, 500
    a_t, a_u = float(acp[t]), float(acp[u])
    c0, cu, std = bridge_coefficients(acp, 0, t, u)
    # docs/algorithms.md §1.4 with s = 0
    assert math.isclose(c0, math.sqrt(a_t) * (1 - a_u / a_t) / (1 - a_u), rel_tol=1e-10)
    assert math.isclose(cu, math.sqrt(a_u / a_t) * (1 - a_t) / (1 - a_u), rel_tol=1e-10)
    assert math.isclose(std**2, (1 - a_u / a_t) * (1 - a_t) / (1 - a_u), rel_tol=1e-10)


def test_bridge_degenerate_ends_and_ddim():
    acp = default_toy_alphas_cumprod()
    assert bridge_coefficients(acp, 200, 200, 600) == (1.0, 0.0, 0.0)
    assert bridge_coefficients(acp, 200, 600, 600) == (0.0, 1.0, 0.0)
    c_s, c_u, std = bridge_coefficients(acp, 0, 300, 500, eta_ddim=0.0)
    assert std == 0.0  # deterministic DDIM
    a_t, a_u = float(acp[300]), float(acp[500])
    assert math.isclose(c_u, math.sqrt((1 - a_t) / (1 - a_u)), rel_tol=1e-10)
    with pytest.raises(ValueError, match="s <= t <= u"):
        bridge_coefficients(acp, 0, 600, 500)


def test_bridge_matches_forward_process_by_monte_carlo():
    """x_s -> x_t -> x_u forward; the bridge sample from (x_s, x_u) has the law of x_t given both."""
    acp = default_toy_alphas_cumprod()
    g = torch.Generator().manual_seed(0)
    s, t, u, n = 100, 400, 700, 200_000
    x_s = torch.full((n, 1), 0.7, dtype=torch.float64)
    a_s, a_t, a_u = (float(acp[i]) for i in (s, t, u))
    x_t = math.sqrt(a_t / a_s) * x_s + math.sqrt(1 - a_t / a_s) * torch.randn(
        n, 1, generator=g, dtype=torch.float64
    )
    x_u = math.sqrt(a_u / a_t) * x_t + math.sqrt(1 - a_u / a_t) * torch.randn(
        n, 1, generator=g, dtype=torch.float64
    )
    bridged = bridge_sample(acp, s, t, u, x_s, x_u, g)
    # Same joint law with x_u: compare E[x_t x_u] and Var(x_t).
    assert abs(float((bridged * x_u).mean() - (x_t * x_u).mean())) < 0.01
    assert abs(float(bridged.var() - x_t.var())) < 0.01
