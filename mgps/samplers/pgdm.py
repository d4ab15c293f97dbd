"""ΠGDM: Pseudoinverse-Guided Diffusion Models (Song et al., ICLR 2023), as run in the MGPS paper.

A DDPM step plus the gradient of a Gaussian approximation of p(y | x_t) (Appendix D.2; ``docs/algorithms.md`` §4):

    x_{t'} = x'_{t'} + w_t ∇_{x_t} P(D_t(x_t)),

* linear operators with an SVD A = U diag(s) Vᵀ: with r_t² = 1 − a_t,
  P(x̂_0) = −½ Σ_i ((Uᵀy)_i − s_i (Vᵀx̂_0)_i)² / (s_i² + σ_y²/r_t²)
  (= r_t² log N(y; A x̂_0, r_t² A Aᵀ + σ_y² I) up to a constant) and w_t = √(a_{t'} a_t),
  the RED-diff implementation's weight;
* nonlinear operators: pseudo-inverse guidance P(x̂_0) = ⟨sg(A⁺y − A⁺A(x̂_0)), x̂_0⟩ and
  w_t = √a_t (for JPEG, A⁺ = identity), as in the original algorithm.

The paper runs the chain in V-coordinates; with an orthogonal V that is the same chain.
For a linear operator without an SVD (the reflect-padded blurs) the same potential's gradient,
Aᵀ(A Aᵀ + σ_y²/r_t² I)⁻¹(y − A x̂_0), is formed by conjugate gradients in observation space
(warm-started, relative residual 1e-4, :class:`mgps.operators.solve.GramSolver`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
from torch import Tensor

from ..operators.base import has_svd
from ..operators.solve import GramSolver
from ..registry import SAMPLERS, Param
from ..schedules import ddpm_step
from ..types import InverseProblem, Prior, Step
from .common import ensure_finite, start

__all__ = ["pgdm"]

_HINT = "PGDM has no step size to tune; try more diffusion steps or another sampler."


@SAMPLERS.register(
    "pgdm",
    label="PGDM",
    params=(Param("num_steps", low=2, high=1000, step=1, help="diffusion steps"),),
    tags={"pixel", "nonlinear"},
    reference="Song et al., Pseudoinverse-Guided Diffusion Models for Inverse Problems, ICLR 2023",
)
def pgdm(
    prior: Prior,
    problem: InverseProblem,
    *,
    num_steps: int = 1000,
    num_samples: int = 1,
    generator: torch.Generator | None = None,
    x_init: Tensor | None = None,
) -> Iterator[Step]:
    """PGDM posterior sampler; yields one :class:`Step` per diffusion step."""
    acp = prior.alphas_cumprod
    timesteps, x = start("pgdm", prior, problem, num_steps, num_samples, x_init, generator)
    op, y, sigma_y = problem.operator, problem.y, float(problem.sigma_y)
    linear, svd = bool(getattr(op, "linear", False)), has_svd(op)
    if svd:
        s = op.singular_values().to(x)
        y_bar = op.U_r_adjoint(y.to(x))  # Uᵀy
    elif linear:
        gram = GramSolver(op)
    else:
        y_pinv = op.A_pinv(y)

    for i in range(num_steps, 1, -1):
        t, t_prev = timesteps[i], timesteps[i - 1]
        a_t, a_prev = float(acp[t]), float(acp[t_prev])
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            x0_hat = prior.x0_pred(x, t)
            r2 = 1.0 - a_t  # r_t² of PGDM
            if svd:
                coeffs = op.V_r_adjoint(x0_hat)
                potential = -0.5 * ((y_bar - s * coeffs) ** 2 / (s**2 + sigma_y**2 / r2)).sum(1)
                weight = math.sqrt(a_prev * a_t)
            elif linear:  # ∇ of the same potential: Aᵀ w, w = (A Aᵀ + σ_y²/r² I)⁻¹(y − A x̂_0)
                Ax0 = op.A(x0_hat)
                w = gram((y.to(Ax0) - Ax0).detach(), sigma_y**2 / r2)
                potential = (w * Ax0).flatten(1).sum(1)
                weight = math.sqrt(a_prev * a_t)
            else:
                target = (y_pinv - op.A_pinv(op.A(x0_hat))).detach()  # sg(A⁺y − A⁺A(x̂_0))
                potential = (target * x0_hat).flatten(1).sum(1)
                weight = math.sqrt(a_t)
            (grad,) = torch.autograd.grad(potential.sum(), x)
        with torch.no_grad():
            x = ddpm_step(acp, t_prev, t, x.detach(), x0_hat.detach(), generator) + weight * grad
        ensure_finite(x, "PGDM", num_steps - i, num_steps, _HINT)
        yield Step(num_steps - i, num_steps, t_prev, x, x0_hat.detach(), {})
    with torch.no_grad():
        x0 = ensure_finite(prior.x0_pred(x, timesteps[1]), "PGDM", num_steps - 1, num_steps, _HINT)
    yield Step(num_steps - 1, num_steps, 0, x0, x0, {})
