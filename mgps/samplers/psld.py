"""PSLD: Posterior Sampling with Latent Diffusion (Rout et al., NeurIPS 2023, Algorithm 2).

DPS in the latent space of a latent diffusion model, plus a "gluing" term that asks the
denoised latent to be a fixed point of encode ∘ (data-consistent projection) ∘ decode
(``docs/algorithms.md`` §4):

    ẑ_0 = D_t(z_t),  x̂ = Dec(ẑ_0),
    e_1 = ‖y − A x̂‖,   e_2 = ‖ẑ_0 − Enc(A⁺y + x̂ − A⁺A x̂)‖   (both unsquared),
    z_{t'} = DDPM step(z_t, ẑ_0) − ∇_{z_t}(ω e_1 + γ e_2).

The paper writes Aᵀ in the gluing term; we use the exact pseudo-inverse A⁺, which is Aᵀ for
masks and the projection the term intends for super-resolution (the original code's
super-resolution "transpose" is an upsampling, i.e. A⁺ up to interpolation). Linear operators
only. ``measurement_weight`` is ω, ``gluing_weight`` γ.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor

from ..registry import SAMPLERS, Param
from ..schedules import ddpm_step
from ..types import InverseProblem, LatentPrior, Step
from .common import ensure_finite, start

__all__ = ["psld"]

_HINT = "Try smaller measurement_weight (ω) and gluing_weight (γ)."


@SAMPLERS.register(
    "psld",
    label="PSLD",
    params=(
        Param("num_steps", low=2, high=1000, step=1, help="diffusion steps"),
        Param(
            "measurement_weight",
            low=0.0,
            high=10.0,
            step=0.01,
            help="ω: step on ‖y − A(Dec(ẑ0))‖ (0.9 for super-resolution in the paper's runs)",
        ),
        Param(
            "gluing_weight",
            low=0.0,
            high=10.0,
            step=0.01,
            help="γ: step on the gluing term ‖ẑ0 − Enc(A⁺y + (I − A⁺A) Dec(ẑ0))‖",
        ),
    ),
    tags={"latent", "requires-linear"},
    reference="Rout et al., Solving Linear Inverse Problems Provably via Posterior Sampling with Latent Diffusion Models, NeurIPS 2023, Algorithm 2",
)
def psld(
    prior: LatentPrior,
    problem: InverseProblem,
    *,
    num_steps: int = 1000,
    measurement_weight: float = 0.1,
    gluing_weight: float = 0.1,
    num_samples: int = 1,
    generator: torch.Generator | None = None,
    x_init: Tensor | None = None,
) -> Iterator[Step]:
    """PSLD on a latent prior (with ``encode``/``decode``) and a linear operator."""
    if not (measurement_weight >= 0 and gluing_weight >= 0):
        raise ValueError("measurement_weight and gluing_weight must be non-negative")
    acp = prior.alphas_cumprod
    timesteps, z = start("psld", prior, problem, num_steps, num_samples, x_init, generator)
    op, y = problem.operator, problem.y
    with torch.no_grad():
        y_pinv = op.A_pinv(y)  # A⁺y, fixed
    for i in range(num_steps, 1, -1):
        t, t_prev = timesteps[i], timesteps[i - 1]
        with torch.enable_grad():
            z = z.detach().requires_grad_(True)
            z0_hat = prior.x0_pred(z, t)
            x_hat = prior.decode(z0_hat)
            measurement = (y.to(x_hat) - op.A(x_hat)).flatten(1).norm(dim=1)  # e_1
            glued = y_pinv.to(x_hat) + x_hat - op.A_pinv(op.A(x_hat))  # A⁺y + (I − A⁺A) x̂
            gluing = (z0_hat - prior.encode(glued)).flatten(1).norm(dim=1)  # e_2
            loss = (measurement_weight * measurement + gluing_weight * gluing).sum()
            (grad,) = torch.autograd.grad(loss, z)
        with torch.no_grad():
            z = (
                ddpm_step(acp, t_prev, t, z.detach(), z0_hat.detach(), generator) - grad
            )  # Alg. 2, line 12
        ensure_finite(z, "PSLD", num_steps - i, num_steps, _HINT)
        yield Step(num_steps - i, num_steps, t_prev, z, z0_hat.detach(), {})
    with torch.no_grad():
        z0 = ensure_finite(prior.x0_pred(z, timesteps[1]), "PSLD", num_steps - 1, num_steps, _HINT)
    yield Step(num_steps - 1, num_steps, 0, z0, z0, {})
