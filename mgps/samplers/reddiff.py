"""RED-diff: a variational perspective on solving inverse problems with diffusion models
(Mardani et al., ICLR 2024).

A point estimate μ is optimised by Adam, one step per diffusion time from high to low noise
(``docs/algorithms.md`` §4):

    x_t = √a_t μ + √(1 − a_t) ξ,  ε̂ = sg(ε_θ(x_t, t)),
    L(μ) = w_t · mean((ε̂ − ξ) ⊙ μ) + mean((y − A(μ))²) / 2,   w_t = λ √(1 − a_t) / √a_t.

μ starts at A⁺y (random noise for nonlinear operators). Means are taken per sample and
summed over the batch, so samples stay independent (the same as the reference for one
sample, up to a scale Adam ignores). ``regularization`` is λ.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
from torch import Tensor

from ..registry import SAMPLERS, Param
from ..schedules import eps_from_x0, randn_like
from ..types import InverseProblem, Prior, Step
from .common import ensure_finite, residual_fn, start

__all__ = ["reddiff"]

_HINT = "Try a smaller learning rate (lr)."


@SAMPLERS.register(
    "reddiff",
    label="RED-diff",
    params=(
        Param("num_steps", low=2, high=1000, step=1, help="diffusion steps (one Adam step each)"),
        Param("lr", low=1e-4, high=1.0, step=0.01, help="Adam learning rate"),
        Param(
            "regularization",
            low=0.0,
            high=10.0,
            step=0.05,
            help="λ: weight of the denoising regulariser",
        ),
    ),
    tags={"pixel", "nonlinear"},
    reference="Mardani et al., A Variational Perspective on Solving Inverse Problems with Diffusion Models, ICLR 2024",
)
def reddiff(
    prior: Prior,
    problem: InverseProblem,
    *,
    num_steps: int = 1000,
    lr: float = 0.1,
    regularization: float = 0.25,
    num_samples: int = 1,
    generator: torch.Generator | None = None,
    x_init: Tensor | None = None,
) -> Iterator[Step]:
    """RED-diff; yields one :class:`Step` per Adam step (``x0_hat`` is μ)."""
    if not lr > 0 or not regularization >= 0:
        raise ValueError(f"need lr > 0 and regularization >= 0; got {lr}, {regularization}")
    acp = prior.alphas_cumprod
    timesteps, noise = start("reddiff", prior, problem, num_steps, num_samples, x_init, generator)
    op = problem.operator
    if getattr(op, "linear", False):
        with torch.no_grad():
            mu0 = op.A_pinv(problem.y).to(noise).expand_as(noise)  # μ_0 = A⁺y
    else:
        mu0 = noise  # no pseudo-inverse to start from
    mu = mu0.detach().clone().requires_grad_(True)
    optimizer = torch.optim.Adam([mu], lr=lr, betas=(0.9, 0.99))
    residual = residual_fn(prior, problem)
    for i in range(num_steps, 0, -1):
        t, t_prev = timesteps[i], timesteps[i - 1]
        a_t = float(acp[t])
        with torch.enable_grad():
            xi = randn_like(mu, generator)
            x_t = math.sqrt(a_t) * mu.detach() + math.sqrt(1 - a_t) * xi
            with torch.no_grad():
                eps_hat = eps_from_x0(x_t, prior.x0_pred(x_t, t), a_t)
            weight = regularization * math.sqrt(1 - a_t) / math.sqrt(a_t)
            regulariser = ((eps_hat - xi) * mu).flatten(1).mean(1)
            fit = residual(mu).flatten(1).pow(2).mean(1) / 2
            loss = (weight * regulariser + fit).sum()
            (mu.grad,) = torch.autograd.grad(loss, [mu])
        optimizer.step()
        ensure_finite(mu, "RED-diff", num_steps - i, num_steps, _HINT)
        yield Step(num_steps - i, num_steps, t_prev, x_t.detach(), mu.detach().clone(), {})
