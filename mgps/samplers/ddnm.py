"""DDNM+: Denoising Diffusion Null-space Model with noise handling (Wang et al., ICLR 2023).

In the SVD basis A = U diag(s) Vᵀ, with a = √a_{t'} and σ_t = √(1 − a_{t'}) (``docs/algorithms.md`` §4):

    x̂_{0|y} = x̂_0 − V Λ Vᵀ A⁺(A x̂_0 − y),                                   (Eq. 17)
    λ_i = 1 if σ_t ≥ a σ_y / s_i, else s_i σ_t √(1 − η²) / (a σ_y),            (Eq. 19)
    x_{t'} = a x̂_{0|y} + V(d1 ⊙ ξ + d2 ⊙ Vᵀ ε̂),  ξ ~ N(0, I),                  (Eq. 20)

with d1 = √(σ_t² − a²σ_y²/s_i²), d2 = 0 where σ_t ≥ aσ_y/s_i; d1 = σ_t η, d2 = 0 where
σ_t < aσ_y/s_i; and d1 = σ_t η, d2 = σ_t √(1 − η²) on the null space (s_i = 0). Each
coefficient keeps total noise variance σ_t². No time-travel.

**Operators without an SVD** (the reflect-padded blurs). The filter V Λ S⁺ Uᵀ of Eqs. 17 and
19 is replaced by its Tikhonov counterpart with the same threshold s* = aσ_y/σ_t:

    x̂_{0|y} = x̂_0 + (AᵀA + s*² I)⁻¹ Aᵀ(y − A x̂_0),

solved by conjugate gradients with A and Aᵀ (warm-started, relative residual 1e-4,
:class:`mgps.operators.solve.RegularizedSolver`). Directions with s_i ≫ s* are projected
exactly (λ_i → 1, as Eq. 19), those with s_i ≪ s* are left to the prior (λ_i ≈ s_i²/s*²
where Eq. 19 has √(1 − η²) s_i/s*); as σ_y → 0 this is DDNM's exact A⁺ projection. The
noise is then plain DDIM-η noise, σ_t(η ξ + √(1 − η²) ε̂), everywhere: without the singular
values the per-direction compensation of Eq. 20 cannot be formed, so directions near the
threshold carry up to twice the variance σ_t² (the noise of y they took in).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
from torch import Tensor

from ..operators.base import has_svd
from ..operators.solve import RegularizedSolver
from ..registry import SAMPLERS, Param
from ..schedules import eps_from_x0, randn_like
from ..types import InverseProblem, Prior, Step
from .common import ensure_finite, start

__all__ = ["ddnm"]

_HINT = "Try a larger sigma_y or more diffusion steps."


@SAMPLERS.register(
    "ddnm",
    label="DDNM+",
    params=(
        Param("num_steps", low=2, high=1000, step=1, help="diffusion steps"),
        Param("eta", low=0.0, high=1.0, step=0.05, help="η: share of fresh noise"),
    ),
    tags={"pixel", "requires-linear"},
    reference="Wang et al., Zero-Shot Image Restoration Using Denoising Diffusion Null-Space Model, ICLR 2023 (DDNM+)",
)
def ddnm(
    prior: Prior,
    problem: InverseProblem,
    *,
    num_steps: int = 1000,
    eta: float = 0.85,
    num_samples: int = 1,
    generator: torch.Generator | None = None,
    x_init: Tensor | None = None,
) -> Iterator[Step]:
    """DDNM+ posterior sampler; needs a linear operator (exact with an SVD, CG otherwise)."""
    if not 0.0 <= eta <= 1.0:
        raise ValueError(f"eta must lie in [0, 1], got {eta}")
    acp = prior.alphas_cumprod
    timesteps, x = start("ddnm", prior, problem, num_steps, num_samples, x_init, generator)
    op, sigma_y = problem.operator, float(problem.sigma_y)
    if not has_svd(op):
        yield from _ddnm_without_svd(prior, problem, timesteps, x, eta, generator)
        return
    s = op.singular_values().to(x)
    observed = s > s.max() * 1e-10
    s_safe = torch.where(observed, s, torch.ones_like(s))
    y_spectral = (
        op.U_r_adjoint(problem.y.to(x)) / s_safe
    )  # (Uᵀy)_i / s_i: the observed coefficients

    for i in range(num_steps, 0, -1):
        t, t_prev = timesteps[i], timesteps[i - 1]
        a_t, a_prev = float(acp[t]), float(acp[t_prev])
        with torch.no_grad():
            x0_hat = prior.x0_pred(x, t)
            eps_hat = eps_from_x0(x, x0_hat, a_t)
            a, sigma_t = math.sqrt(a_prev), math.sqrt(1.0 - a_prev)
            noise_in_y = torch.where(
                observed, a * sigma_y / s_safe, torch.full_like(s, math.inf)
            )  # a σ_y / s_i
            strong = sigma_t >= noise_in_y
            lam = torch.where(
                strong, torch.ones_like(s), s * sigma_t * math.sqrt(1 - eta**2) / (a * sigma_y)
            )  # Eq. 19
            lam = torch.where(observed, lam, torch.zeros_like(s))
            # Null space: plain DDIM-η noise. Row space (first r coefficients): Eqs. 17 and 20.
            null_d1, null_d2 = sigma_t * eta, sigma_t * math.sqrt(1 - eta**2)
            d1 = torch.where(
                observed & strong,
                (sigma_t**2 - noise_in_y.clamp_max(sigma_t) ** 2).sqrt(),
                torch.full_like(s, null_d1),
            )
            d2 = torch.where(observed, torch.zeros_like(s), torch.full_like(s, null_d2))
            xi = randn_like(x, generator)
            coeffs, eps_coeffs, xi_coeffs = (
                op.V_r_adjoint(x0_hat),
                op.V_r_adjoint(eps_hat),
                op.V_r_adjoint(xi),
            )
            correction = (
                -a * lam * (coeffs - y_spectral)
                + (d1 - null_d1) * xi_coeffs
                + (d2 - null_d2) * eps_coeffs
            )
            x = a * x0_hat + null_d1 * xi + null_d2 * eps_hat + op.V_r(correction)  # Eqs. 17 + 20
        ensure_finite(x, "DDNM+", num_steps - i, num_steps, _HINT)
        yield Step(num_steps - i, num_steps, t_prev, x, x if t_prev == 0 else x0_hat, {})


def _ddnm_without_svd(prior, problem, timesteps, x, eta, generator) -> Iterator[Step]:
    """DDNM+ with the Tikhonov range-space correction (module docstring), by CG."""
    acp, num_steps = prior.alphas_cumprod, len(timesteps) - 1
    sigma_y = float(problem.sigma_y)
    correct = RegularizedSolver(problem.operator, problem.y)
    for i in range(num_steps, 0, -1):
        t, t_prev = timesteps[i], timesteps[i - 1]
        a_t, a_prev = float(acp[t]), float(acp[t_prev])
        with torch.no_grad():
            x0_hat = prior.x0_pred(x, t)
            eps_hat = eps_from_x0(x, x0_hat, a_t)
            a, sigma_t = math.sqrt(a_prev), math.sqrt(1.0 - a_prev)
            # s* = aσ_y/σ_t; at the last step (σ_t = 0) s* = ∞: no correction, as Eq. 19
            x0_y = correct(x0_hat, (a * sigma_y / sigma_t) ** 2) if sigma_t > 0 else x0_hat
            noise = eta * randn_like(x, generator) + math.sqrt(1 - eta**2) * eps_hat
            x = a * x0_y + sigma_t * noise
        ensure_finite(x, "DDNM+", num_steps - i, num_steps, _HINT)
        yield Step(num_steps - i, num_steps, t_prev, x, x if t_prev == 0 else x0_hat, {})
