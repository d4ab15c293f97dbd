"""Example 3.2: the exact W2 of the MGPS surrogate against η (Appendix B; docs/algorithms.md §8)."""

import numpy as np

from mgps.metrics import gaussian_w2
from mgps.paper.gaussian_eta import eta_curve, random_instance, surrogate_moments


def test_minimum_is_at_an_intermediate_midpoint():
    etas = np.array([0.1, 0.3, 0.45, 0.52, 0.57, 0.62, 0.7, 0.85, 0.95])
    w2 = eta_curve(etas, seeds=[0])[:, 0]
    best = etas[int(np.argmin(w2))]
    assert 0.5 <= best <= 0.65, f"minimum at eta={best}: {dict(zip(etas, w2.round(3)))}"
    assert w2[-1] > 5 * w2.min(), "eta near 1 (DPS-like) should be several times worse"
    assert w2[0] > 3 * w2.min(), "eta near 0 should be worse too"


def test_exact_chain_is_independent_of_eta():
    inst = random_instance(0, dim=30, obs_dim=15)
    mean, cov = inst.posterior()
    values = [
        gaussian_w2(
            *surrogate_moments(inst, eta, 100, backward="exact", potential="exact"), mean, cov
        )
        for eta in (0.1, 0.5, 0.9)
    ]
    assert max(values) - min(values) < 1e-6
    surrogate = gaussian_w2(*surrogate_moments(inst, 0.9, 100), mean, cov)
    assert surrogate > 3 * values[0]


def test_w2_between_gaussians():
    import torch

    m = torch.zeros(2, dtype=torch.float64)
    c = torch.eye(2, dtype=torch.float64)
    assert gaussian_w2(m, c, m, c) < 1e-7
    assert abs(gaussian_w2(m, c, m + torch.tensor([3.0, 4.0], dtype=torch.float64), c) - 5.0) < 1e-9
    assert abs(gaussian_w2(m, c, m, 4 * c) - np.sqrt(2.0)) < 1e-9  # (2 − 1)² per axis
