"""ReSample: latent diffusion posterior sampling with hard data consistency
(Song et al., ICLR 2024), as run in the MGPS paper (Appendix D.2; ``docs/algorithms.md`` §4).

Every step: an unconditional DDIM step (η = 1) plus a DPS-like correction
z_{t'} −= step_size · a_t · ∇_{z_t} ‖y − A(Dec(D_t(z_t)))‖.

Every ``interval``-th step in the last two thirds of the chain, hard data consistency:

1. "time travel": a few unconditional DDIM steps ahead, then ẑ_0 = D(·) (our D is Tweedie;
   the reference code's pseudo-x̂_0 is not; ``docs/algorithms.md`` §10);
2. ẑ_0(y) = argmin ‖y − A(x)‖² started at Dec(ẑ_0) and re-encoded (pixel space, middle third),
   or argmin ‖y − A(Dec(z))‖² started at ẑ_0 (latent space, last third), AdamW, stopped once
   the mean squared residual is below ε² (ε = σ_y) or after ``max_iterations``;
3. stochastic resampling: z_{t'} ~ N((σ √a ẑ_0(y) + (1 − a) z_{t'}) / (σ + 1 − a),
   σ (1 − a) / (σ + 1 − a) I), a = ā_{t'}, σ = γ (1 − ā_{t'})/(1 − ā_t) (1 − ā_t/ā_{t'}).

A final latent optimisation refines the output. The reference implementation needs exactly
500 steps (an indexing bug); this one runs with any number.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import torch
from torch import Tensor

from ..registry import SAMPLERS, Param
from ..schedules import ddpm_step, randn_like
from ..types import InverseProblem, LatentPrior, Step
from .common import ensure_finite, residual_fn, start

__all__ = ["resample"]

_HINT = "Try a smaller step_size or a smaller gamma."


def _optimise(
    init: Tensor,
    residual: Callable[[Tensor], Tensor],
    tolerance: float,
    lr: float,
    max_iterations: int,
) -> Tensor:
    """AdamW on mean((y − A(·))²) per sample, until every sample is below ``tolerance²``."""
    x = init.detach().clone().requires_grad_(True)
    optimizer = torch.optim.AdamW([x], lr=lr)
    with torch.enable_grad():
        for _ in range(max_iterations):
            mse = residual(x).flatten(1).pow(2).mean(1)
            if bool((mse < tolerance**2).all()):
                break
            (x.grad,) = torch.autograd.grad(mse.sum(), [x])
            optimizer.step()
    return x.detach()


@SAMPLERS.register(
    "resample",
    label="ReSample",
    params=(
        Param(
            "num_steps",
            low=2,
            high=1000,
            step=1,
            help="diffusion steps (the reference needs exactly 500)",
        ),
        Param(
            "gamma",
            low=0.0,
            high=1000.0,
            step=1.0,
            help="γ: resampling variance scale (paper: 40 default, 80 SR×4 / box / motion, 60 half / Gaussian blur)",
        ),
        Param(
            "tolerance",
            low=0.0,
            high=1.0,
            step=0.001,
            help="ε: stop the consistency optimisation when the RMS residual is below ε (empty: σ_y)",
        ),
        Param(
            "max_iterations",
            low=1,
            high=5000,
            step=1,
            help="cap on each consistency optimisation",
        ),
        Param(
            "interval",
            low=1,
            high=100,
            step=1,
            help="hard data consistency every this many steps",
        ),
    ),
    tags={"latent"},
    reference="Song et al., Solving Inverse Problems with Latent Diffusion Models via Hard Data Consistency, ICLR 2024",
)
def resample(
    prior: LatentPrior,
    problem: InverseProblem,
    *,
    num_steps: int = 500,
    gamma: float = 40.0,
    tolerance: float | None = None,
    max_iterations: int = 200,
    interval: int = 10,
    time_travel_steps: int = 5,
    step_size: float = 0.5,
    pixel_lr: float = 1e-2,
    latent_lr: float = 5e-3,
    num_samples: int = 1,
    generator: torch.Generator | None = None,
    x_init: Tensor | None = None,
) -> Iterator[Step]:
    """ReSample on a latent prior; yields one :class:`Step` per diffusion step."""
    if not (gamma >= 0 and max_iterations >= 1 and interval >= 1 and time_travel_steps >= 0):
        raise ValueError(
            "need gamma >= 0, max_iterations >= 1, interval >= 1, time_travel_steps >= 0"
        )
    acp = prior.alphas_cumprod
    timesteps, z = start("resample", prior, problem, num_steps, num_samples, x_init, generator)
    epsilon = float(problem.sigma_y) if tolerance is None else float(tolerance)
    residual = residual_fn(prior, problem)  # z ↦ y − A(Dec(z))
    for i in range(num_steps, 1, -1):
        t, t_prev = timesteps[i], timesteps[i - 1]
        a_t, a_prev = float(acp[t]), float(acp[t_prev])
        with torch.enable_grad():
            z = z.detach().requires_grad_(True)
            z0_hat = prior.x0_pred(z, t)
            norm = residual(z0_hat).flatten(1).norm(dim=1)
            (grad,) = torch.autograd.grad(norm.sum(), z)
        with torch.no_grad():
            z = (
                ddpm_step(acp, t_prev, t, z.detach(), z0_hat.detach(), generator)
                - step_size * a_t * grad
            )
        ensure_finite(z, "ReSample", num_steps - i, num_steps, _HINT)
        progress = (num_steps - i) / num_steps  # 0 at pure noise, 1 at the end
        if progress >= 1 / 3 and i % interval == 0:
            with torch.no_grad():
                ahead, k = z, i - 1  # time travel: a few unconditional DDIM steps ahead
                for _ in range(time_travel_steps):
                    if k <= 1:
                        break
                    ahead = ddpm_step(
                        acp,
                        timesteps[k - 1],
                        timesteps[k],
                        ahead,
                        prior.x0_pred(ahead, timesteps[k]),
                        None,
                        eta_ddim=0.0,
                    )
                    k -= 1
                z0_travel = prior.x0_pred(ahead, timesteps[k])
            if progress < 2 / 3:  # middle third: optimise in pixel space, then re-encode
                with torch.no_grad():
                    x_start = prior.decode(z0_travel)
                x_y = _optimise(x_start, problem.residual, epsilon, pixel_lr, max_iterations)
                with torch.no_grad():
                    z0_y = prior.encode(x_y)
            else:  # last third: optimise the latent through the decoder
                z0_y = _optimise(z0_travel, residual, epsilon, latent_lr, max_iterations)
            with torch.no_grad():
                sigma = (
                    gamma * (1 - a_prev) / (1 - a_t) * (1 - a_t / a_prev)
                )  # stochastic resampling
                mean = (sigma * math.sqrt(a_prev) * z0_y + (1 - a_prev) * z) / (sigma + 1 - a_prev)
                var = sigma * (1 - a_prev) / (sigma + 1 - a_prev)
                z = mean + math.sqrt(var) * randn_like(z, generator)
            ensure_finite(z, "ReSample", num_steps - i, num_steps, _HINT)
        yield Step(num_steps - i, num_steps, t_prev, z, z0_hat.detach(), {})
    with torch.no_grad():
        z0 = prior.x0_pred(z, timesteps[1])
    z0 = ensure_finite(
        _optimise(z0, residual, epsilon, latent_lr, max_iterations),
        "ReSample",
        num_steps - 1,
        num_steps,
        _HINT,
    )
    yield Step(num_steps - 1, num_steps, 0, z0, z0, {})
