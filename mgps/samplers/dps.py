"""DPS: Diffusion Posterior Sampling (Chung et al., ICLR 2023, Algorithm 1).

A DDPM step followed by a gradient step on the likelihood of the denoised estimate:

    x̂_0 = D_t(x_t),  x'_{t'} ~ p_{t'|t}(· | x_t),
    x_{t'} = x'_{t'} − ζ_t ∇_{x_t} ‖y − A(x̂_0)‖²,   ζ_t = ζ / ‖y − A(x̂_0)‖.

The residual norm is per sample (one exploding sample must not poison the batch) and the
squared residual is not divided by σ_y (``docs/algorithms.md`` §4). ``step_size`` is ζ.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor

from ..registry import SAMPLERS, Param
from ..schedules import ddpm_step
from ..types import InverseProblem, Prior, Step, append_dims
from .common import ensure_finite, residual_fn, start

__all__ = ["dps"]

_HINT = "Try a smaller step_size (ζ); DPS is known to diverge on some problems."


@SAMPLERS.register(
    "dps",
    label="DPS",
    params=(
        Param("num_steps", low=2, high=1000, step=1, help="diffusion steps"),
        Param(
            "step_size",
            low=0.0,
            high=10.0,
            step=0.01,
            help="ζ: guidance step, divided by ‖y − A(x̂0)‖ (paper: 1.0 for masks and SR, 0.3 for blur, 0.4 phase retrieval)",
        ),
    ),
    tags={"pixel", "latent", "nonlinear"},
    reference="Chung et al., Diffusion Posterior Sampling for General Noisy Inverse Problems, ICLR 2023, Algorithm 1",
)
def dps(
    prior: Prior,
    problem: InverseProblem,
    *,
    num_steps: int = 1000,
    step_size: float = 0.1,
    num_samples: int = 1,
    generator: torch.Generator | None = None,
    x_init: Tensor | None = None,
) -> Iterator[Step]:
    """DPS posterior sampler; yields one :class:`Step` per diffusion step.

    Args:
        prior, problem: see :func:`mgps.samplers.mgps.mgps`.
        num_steps: diffusion steps.
        step_size: ζ, the guidance scale (per-task values in ``mgps/presets.py``, ``docs/algorithms.md`` §4).
        num_samples, generator, x_init: batch size, randomness, initial noise.
    """
    if not step_size >= 0:
        raise ValueError(f"step_size must be non-negative, got {step_size}")
    acp = prior.alphas_cumprod
    timesteps, x = start("dps", prior, problem, num_steps, num_samples, x_init, generator)
    residual = residual_fn(prior, problem)
    for i in range(num_steps, 1, -1):
        t, t_prev = timesteps[i], timesteps[i - 1]
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            x0_hat = prior.x0_pred(x, t)
            sq_norm = residual(x0_hat).flatten(1).pow(2).sum(1)  # ‖y − A(x̂_0)‖² per sample
            (grad,) = torch.autograd.grad(sq_norm.sum(), x)
        with torch.no_grad():
            norm = sq_norm.detach().sqrt().clamp_min(1e-12)
            x_prev = ddpm_step(acp, t_prev, t, x.detach(), x0_hat.detach(), generator)
            x = (
                x_prev - append_dims(step_size / norm, x.ndim) * grad
            )  # Alg. 1: ζ_t = ζ / ‖y − A(x̂_0)‖
        ensure_finite(x, "DPS", num_steps - i, num_steps, _HINT)
        yield Step(num_steps - i, num_steps, t_prev, x, x0_hat.detach(), {"residual_norm": norm})
    with torch.no_grad():
        x0 = ensure_finite(prior.x0_pred(x, timesteps[1]), "DPS", num_steps - 1, num_steps, _HINT)
    yield Step(num_steps - 1, num_steps, 0, x0, x0, {})
