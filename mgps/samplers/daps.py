"""DAPS: Decoupled Annealing Posterior Sampling (Zhang et al., CVPR 2025, Algorithm 1).

DAPS anneals a noise level σ_K > … > σ_1 > σ_0 = 0 (the EDM "poly-7" grid between
``sigma_max`` and ``sigma_min``) and, instead of stepping x_{σ_k} → x_{σ_{k−1}} with a reverse
transition, decouples consecutive states through the clean state (Algorithm 1):

    x̂_0 = ODE(x_{σ_k})        probability-flow ODE from σ_k to 0, ``ode_steps`` Euler steps
                               (in our VP time, DDIM η = 0 steps: the same map);
    x_0 ~ p(x_0 | x_{σ_k}, y) ∝ N(x_0; x̂_0, r_k² I) · g(x_0)
        by ``langevin_steps`` steps of Langevin dynamics
        x_0 ← x_0 + η_k [ (x̂_0 − x_0)/r_k² − ∇‖y − A(x_0)‖²/(2β_y²) ] + √(2η_k) ε;
    x_{σ_{k−1}} = x_0 + σ_{k−1} ε                                     (forward diffusion)

with r_k = σ_k (the authors' "Gaussian" prior approximation) and η_k decaying linearly from
``lr`` to ``lr · lr_min_ratio`` over the annealing. In VP coordinates x_t = √a_t x_{VE} with
σ_t² = (1 − a_t)/a_t, so the forward step is q(x_{t'} | x_0) and each σ_k is the padded time
whose σ_t is nearest (kept strictly decreasing). The sample is the last x_0.

Defaults are "DAPS-1K" (200 annealing × 5 ODE steps, 100 Langevin steps) with the released
pixel configuration (σ_max 100, σ_min 0.1, ODE σ_min 0.01, lr_min_ratio 0.01). β_y is the
likelihood's noise level: ``likelihood_std=None`` uses σ_y, the Bayesian posterior the tests
check; the released image configs use τ = 0.01 in ‖A(x) − y‖²/τ², i.e. β_y = τ/√2 ≈ 0.0071
for σ_y = 0.05 (a sharper likelihood), with per-task step sizes (:mod:`mgps.presets`). The
Langevin step must stay below 2/L with L ≈ ‖A‖²/β_y² the data term's curvature, so ``lr``
depends on the problem's scale. A latent prior runs the same chain on latents with the
likelihood through the decoder (the paper's LatentDAPS, which uses fewer steps).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
from torch import Tensor

from ..registry import SAMPLERS, Param
from ..schedules import ddpm_step, randn_like, sigma_grid, times_for_sigmas
from ..types import InverseProblem, Step
from .common import ensure_finite, is_latent, log_likelihood_fn, start

__all__ = ["daps"]

_HINT = "Try a smaller lr (Langevin step size): it must stay below 2β_y²/‖A‖²."


@SAMPLERS.register(
    "daps",
    label="DAPS",
    params=(
        Param("num_steps", low=2, high=1000, step=1, help="annealing steps N_A"),
        Param("ode_steps", low=1, high=100, step=1, help="Euler steps of the ODE x_t → x̂_0"),
        Param(
            "langevin_steps",
            low=1,
            high=1000,
            step=1,
            help="Langevin steps per annealing step",
        ),
        Param(
            "lr",
            low=1e-8,
            high=1.0,
            step=1e-5,
            help="Langevin step size η_0 (must stay below 2β_y²/‖A‖²)",
        ),
        Param(
            "lr_min_ratio",
            low=0.0,
            high=1.0,
            step=0.01,
            help="the step size decays linearly to η_0 × this",
        ),
        Param(
            "likelihood_std",
            low=1e-4,
            high=10.0,
            step=0.001,
            help="β_y of the Langevin likelihood; empty: σ_y (the released image configs: 0.0071)",
        ),
        Param("sigma_max", low=0.01, high=1000.0, step=1.0, help="top annealing level σ_max"),
        Param("sigma_min", low=1e-4, high=10.0, step=0.01, help="σ_min of the annealing grid"),
    ),
    tags={"pixel", "latent", "nonlinear"},
    reference="Zhang et al., Improving Diffusion Inverse Problem Solving with Decoupled Noise Annealing, CVPR 2025, Algorithm 1",
)
def daps(
    prior,
    problem: InverseProblem,
    *,
    num_steps: int = 200,
    ode_steps: int = 5,
    langevin_steps: int = 100,
    lr: float = 1e-4,
    lr_min_ratio: float = 0.01,
    likelihood_std: float | None = None,
    sigma_max: float = 100.0,
    sigma_min: float = 0.1,
    ode_sigma_min: float = 0.01,
    num_samples: int = 1,
    generator: torch.Generator | None = None,
    x_init: Tensor | None = None,
) -> Iterator[Step]:
    """DAPS; yields one :class:`Step` per annealing step (``x0_hat`` is the Langevin x_0).

    Args:
        prior, problem: see :func:`mgps.samplers.mgps.mgps`.
        num_steps: annealing steps N_A.
        ode_steps: Euler (DDIM) steps of the probability-flow ODE that gives x̂_0.
        langevin_steps, lr, lr_min_ratio: Langevin dynamics on x_0 (step η_0 = ``lr``).
        likelihood_std: β_y in the Langevin likelihood; None: the problem's σ_y.
        sigma_max, sigma_min, ode_sigma_min: the annealing and ODE noise grids (EDM σ units,
            σ_max clipped to the prior's largest level).
        num_samples, generator, x_init: batch size, randomness, initial noise.

    Yields:
        Step with ``extras = {"x0_ode": x̂_0, "sigma": σ_k}``.
    """
    if not (lr > 0 and 0.0 <= lr_min_ratio <= 1.0):
        raise ValueError(f"need lr > 0 and lr_min_ratio in [0, 1]; got {lr}, {lr_min_ratio}")
    for name, value in (("ode_steps", ode_steps), ("langevin_steps", langevin_steps)):
        if not isinstance(value, int) or not 1 <= value <= 10_000:
            raise ValueError(f"{name} must be an integer between 1 and 10000, got {value!r}")
    if not 0 < ode_sigma_min < sigma_min < sigma_max:
        raise ValueError(
            f"need 0 < ode_sigma_min < sigma_min < sigma_max; got {ode_sigma_min}, {sigma_min}, {sigma_max}"
        )
    if likelihood_std is not None and not likelihood_std > 0:
        raise ValueError(f"likelihood_std must be positive, got {likelihood_std}")
    acp = prior.alphas_cumprod
    _, x = start("daps", prior, problem, num_steps, num_samples, x_init, generator)
    top = math.sqrt((1 - float(acp[-1])) / float(acp[-1]))  # the prior's largest σ
    sigmas = sigma_grid(min(sigma_max, top), sigma_min, num_steps)
    times = times_for_sigmas(acp, sigmas) + [0]
    beta = float(problem.sigma_y) if likelihood_std is None else float(likelihood_std)
    grad_log_likelihood = _likelihood_gradient(prior, problem, beta)

    for k in range(num_steps):
        t, t_next = times[k], times[k + 1]
        sigma = math.sqrt((1 - float(acp[t])) / float(acp[t]))  # r_k = σ_k at the time used
        with torch.no_grad():
            x0_ode = _ode_to_clean(prior, x, t, ode_steps, ode_sigma_min)
        step_size = lr * (1 + k / num_steps * (lr_min_ratio - 1))
        x0 = x0_ode.clone()
        for _ in range(langevin_steps):
            drift = (x0_ode - x0) / sigma**2 + grad_log_likelihood(x0)  # Langevin on x_0
            x0 = x0 + step_size * drift + math.sqrt(2 * step_size) * randn_like(x0, generator)
        x0 = ensure_finite(x0, "DAPS", k, num_steps, _HINT)
        x = x0  # forward diffusion q(x_{t'} | x_0) to the next level (none after the last)
        if t_next > 0:
            a = float(acp[t_next])
            x = math.sqrt(a) * x0 + math.sqrt(1 - a) * randn_like(x0, generator)
        yield Step(k, num_steps, t_next, x, x0, {"x0_ode": x0_ode, "sigma": sigma})


def _likelihood_gradient(prior, problem: InverseProblem, beta: float):
    """x ↦ ∇ log g(x) with noise level β: Aᵀ(y − A x)/β² for a linear operator on a pixel
    prior, autograd through the operator (and the decoder of a latent prior) otherwise."""
    op = problem.operator
    if (
        getattr(op, "linear", False)
        and callable(getattr(op, "A_adjoint", None))
        and not is_latent(prior)
    ):
        return lambda x: op.A_adjoint(problem.residual(x)) / beta**2
    log_likelihood = log_likelihood_fn(prior, problem)
    scale = (float(problem.sigma_y) / beta) ** 2  # log g with β instead of σ_y

    def gradient(x: Tensor) -> Tensor:
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(scale * log_likelihood(x).sum(), x)
        return grad

    return gradient


def _ode_to_clean(prior, x: Tensor, t: int, ode_steps: int, sigma_min: float) -> Tensor:
    """x̂_0 by the probability-flow ODE from time t: DDIM (η = 0) steps down an EDM grid of
    ``ode_steps`` levels from σ_t towards ``sigma_min``, the last step landing on D(x)."""
    acp = prior.alphas_cumprod
    sigma_t = math.sqrt((1 - float(acp[t])) / float(acp[t]))
    times = [t]
    if ode_steps > 1 and sigma_t > sigma_min:
        below = times_for_sigmas(acp, sigma_grid(sigma_t, sigma_min, ode_steps)[1:])
        times += sorted({s for s in below if s < t}, reverse=True)
    for s, s_next in zip(times, times[1:]):
        x = ddpm_step(acp, s_next, s, x, prior.x0_pred(x, s), None, eta_ddim=0.0)
    return prior.x0_pred(x, times[-1])
