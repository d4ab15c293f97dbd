"""DiffPIR: Denoising Diffusion Models for Plug-and-Play Image Restoration (Zhu et al., CVPRW 2023).

Half-quadratic splitting with the denoiser as the prior step (``docs/algorithms.md`` §4):

    x̂_0 = D_t(x_t),  ρ_t = λ σ_y² a_t / (1 − a_t),
    x̂ = argmin ‖y − A x‖² + ρ_t ‖x − x̂_0‖²,                                     (Eq. 13)
    ε̂ = (x_t − √a_t x̂) / √(1 − a_t),
    x_{t'} = √a_{t'} x̂ + √(1 − a_{t'}) (√(1 − ζ) ε̂ + √ζ ξ).                     (Eq. 15)

``regularization`` is λ; ``zeta`` mixes fresh noise (1 for inpainting, 0.1 for SR and blur in
the paper's runs). The last step returns the data-consistent x̂ (the reference code stops one
step earlier, at x_{τ_1}; ``docs/algorithms.md`` §10).

Eq. 13 has a closed form through the SVD when the operator has one; otherwise (the
reflect-padded blurs) it is solved by conjugate gradients with A and Aᵀ, warm-started from
the previous step's correction, to a relative residual of 1e-4 (``docs/algorithms.md`` §4.2).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
from torch import Tensor

from ..operators.solve import RegularizedSolver
from ..registry import SAMPLERS, Param
from ..schedules import randn_like
from ..types import InverseProblem, Prior, Step
from .common import ensure_finite, start

__all__ = ["diffpir"]

_HINT = "Try a larger regularization (λ) or more diffusion steps."


@SAMPLERS.register(
    "diffpir",
    label="DiffPIR",
    params=(
        Param("num_steps", low=2, high=1000, step=1, help="diffusion steps"),
        Param(
            "regularization",
            low=1e-4,
            high=1e4,
            step=0.1,
            help="λ: weight of the prior in the data step",
        ),
        Param(
            "zeta",
            low=0.0,
            high=1.0,
            step=0.05,
            help="ζ: share of fresh noise (1 inpainting, 0.1 SR / blur)",
        ),
    ),
    tags={"pixel", "requires-linear"},
    reference="Zhu et al., Denoising Diffusion Models for Plug-and-Play Image Restoration, CVPR Workshops 2023",
)
def diffpir(
    prior: Prior,
    problem: InverseProblem,
    *,
    num_steps: int = 1000,
    regularization: float = 1.0,
    zeta: float = 1.0,
    num_samples: int = 1,
    generator: torch.Generator | None = None,
    x_init: Tensor | None = None,
) -> Iterator[Step]:
    """DiffPIR posterior sampler; needs a linear operator."""
    if not regularization > 0 or not 0.0 <= zeta <= 1.0:
        raise ValueError(
            f"need regularization > 0 and zeta in [0, 1]; got {regularization}, {zeta}"
        )
    acp = prior.alphas_cumprod
    timesteps, x = start("diffpir", prior, problem, num_steps, num_samples, x_init, generator)
    sigma_y = float(problem.sigma_y)
    data_step = RegularizedSolver(problem.operator, problem.y)
    for i in range(num_steps, 0, -1):
        t, t_prev = timesteps[i], timesteps[i - 1]
        a_t, a_prev = float(acp[t]), float(acp[t_prev])
        with torch.no_grad():
            x0_hat = prior.x0_pred(x, t)
            rho = regularization * sigma_y**2 * a_t / (1.0 - a_t)
            x0_y = data_step(x0_hat, rho)  # Eq. 13
            eps_hat = (x - math.sqrt(a_t) * x0_y) / math.sqrt(1.0 - a_t)
            noise = math.sqrt(1 - zeta) * eps_hat + math.sqrt(zeta) * randn_like(x, generator)
            x = math.sqrt(a_prev) * x0_y + math.sqrt(1.0 - a_prev) * noise  # Eq. 15
        ensure_finite(x, "DiffPIR", num_steps - i, num_steps, _HINT)
        yield Step(num_steps - i, num_steps, t_prev, x, x0_y, {})
