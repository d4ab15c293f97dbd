"""PnP-DM: diffusion models as plug-and-play priors in a split Gibbs sampler
(Wu et al., Principled Probabilistic Imaging using Diffusion Models as Plug-and-Play Priors,
NeurIPS 2024, Algorithm 1).

The posterior π(x) ∝ e^{−f(x; y)} p(x), f = −log g, is augmented with a coupling variable:
π(x, z; ρ) ∝ e^{−f(z; y)} p(x) e^{−‖x − z‖²/(2ρ²)}, and sampled by alternating

    likelihood step  z ~ π(z | x) ∝ e^{−f(z; y) − ‖z − x‖²/(2ρ_k²)},
    prior step       x ~ π(x | z) ∝ p(x) e^{−‖x − z‖²/(2ρ_k²)},

with the coupling annealed, ρ_k = max(ρ_0 · decay^k, ρ_min). The prior step is the posterior
of a Gaussian denoising problem at noise level ρ_k, which the diffusion model samples: start the reverse diffusion at the time t* whose σ_{t*} = √((1 − a)/a) equals ρ_k,
from x_{t*} = √a_{t*} z, and run ancestral (stochastic, the paper's "SDE" mode) steps down the
EDM grid of ``denoise_steps`` levels (σ from 80 to 0.002, clipped to the prior's range) to 0.
The likelihood step:

* linear operators: exact Gaussian sampling by perturb-and-MAP, z = argmin ‖ỹ − A z‖²/σ_y² +
  ‖z − x̃‖²/ρ² with ỹ = y + σ_y ξ, x̃ = x + ρ ξ' (the SVD's closed form, or conjugate gradients
  for operators without an SVD, :class:`mgps.operators.solve.RegularizedSolver`);
* nonlinear operators (and latent priors, whose likelihood goes through the decoder):
  ``langevin_steps`` steps of Langevin dynamics started at x, step size ``langevin_lr``.

The sample is the last x. Defaults are the paper's linear-task settings (100 iterations,
ρ_0 = 10, decay 0.9, ρ_min = 0.3; ρ_min = 0.1 for phase retrieval, :mod:`mgps.presets`) and
its Langevin settings (100 steps of 1e-4). Note what ρ_min means: the chain's x-marginal is
the posterior with the likelihood blurred by the coupling, N(y; A x, σ_y² I + ρ² A Aᵀ) for a
linear A, so it matches the true posterior only when ρ_min‖A‖ ≪ σ_y; the paper's ρ_min = 0.3
with σ_y = 0.05 trades that for mixing speed.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
from torch import Tensor

from ..operators.solve import RegularizedSolver
from ..registry import SAMPLERS, Param
from ..schedules import ddpm_step, randn_like, sigma_grid, times_for_sigmas
from ..types import InverseProblem, Step
from .common import ensure_finite, is_latent, log_likelihood_fn, start

__all__ = ["pnpdm"]

_HINT = "Try a smaller langevin_lr or a larger rho_min."
_EDM_SIGMA_MAX, _EDM_SIGMA_MIN = 80.0, 0.002


@SAMPLERS.register(
    "pnpdm",
    label="PnP-DM",
    params=(
        Param("num_steps", low=2, high=1000, step=1, help="Gibbs iterations K"),
        Param("rho", low=1e-3, high=100.0, step=0.1, help="ρ_0: initial coupling strength"),
        Param("rho_decay", low=0.0, high=1.0, step=0.01, help="ρ_k = max(ρ_0 · decay^k, ρ_min)"),
        Param(
            "rho_min",
            low=1e-3,
            high=10.0,
            step=0.01,
            help="final coupling ρ_min (paper 0.3; the posterior is exact only for ρ_min‖A‖ ≪ σ_y)",
        ),
        Param(
            "denoise_steps",
            low=2,
            high=1000,
            step=1,
            help="levels of the EDM grid the prior step descends (fewer below small ρ)",
        ),
        Param(
            "langevin_steps",
            low=1,
            high=1000,
            step=1,
            help="Langevin steps of the likelihood step (nonlinear operators, latent priors)",
        ),
        Param(
            "langevin_lr",
            low=1e-8,
            high=1.0,
            step=1e-5,
            help="Langevin step size (nonlinear operators, latent priors)",
        ),
    ),
    tags={"pixel", "latent", "nonlinear"},
    reference="Wu et al., Principled Probabilistic Imaging using Diffusion Models as Plug-and-Play Priors, NeurIPS 2024, Algorithm 1",
)
def pnpdm(
    prior,
    problem: InverseProblem,
    *,
    num_steps: int = 100,
    rho: float = 10.0,
    rho_decay: float = 0.9,
    rho_min: float = 0.3,
    denoise_steps: int = 100,
    langevin_steps: int = 100,
    langevin_lr: float = 1e-4,
    num_samples: int = 1,
    generator: torch.Generator | None = None,
    x_init: Tensor | None = None,
) -> Iterator[Step]:
    """PnP-DM; yields one :class:`Step` per Gibbs iteration (``x_t`` is z, ``x0_hat`` is x).

    Args:
        prior, problem: see :func:`mgps.samplers.mgps.mgps`.
        num_steps: Gibbs iterations K.
        rho, rho_decay, rho_min: the coupling schedule ρ_k.
        denoise_steps: levels of the EDM grid of the prior step.
        langevin_steps, langevin_lr: the likelihood step's Langevin dynamics (when it has no
            closed form).
        num_samples, generator, x_init: batch size, randomness, the chain's initial x.

    Yields:
        Step with ``t`` the time the prior step started from (0 at the end) and
        ``extras = {"rho": ρ_k}``.
    """
    if not (rho > 0 and 0 < rho_min and 0 <= rho_decay <= 1 and langevin_lr > 0):
        raise ValueError(
            f"need rho > 0, rho_min > 0, rho_decay in [0, 1], langevin_lr > 0; got {rho}, {rho_min}, {rho_decay}, {langevin_lr}"
        )
    for name, value in (("denoise_steps", denoise_steps), ("langevin_steps", langevin_steps)):
        if not isinstance(value, int) or not 1 <= value <= 10_000:
            raise ValueError(f"{name} must be an integer between 1 and 10000, got {value!r}")
    acp = prior.alphas_cumprod
    _, x = start("pnpdm", prior, problem, num_steps, num_samples, x_init, generator)
    sigma_of = _sigma_of(acp)
    levels = times_for_sigmas(
        acp, sigma_grid(min(_EDM_SIGMA_MAX, sigma_of(len(acp) - 1)), _EDM_SIGMA_MIN, denoise_steps)
    )
    op = problem.operator
    exact = bool(getattr(op, "linear", False)) and not is_latent(prior)
    if exact:
        solve = RegularizedSolver(op, problem.y)
    else:
        log_likelihood = log_likelihood_fn(prior, problem)
    sigma_y = float(problem.sigma_y)

    for k in range(num_steps):
        rho_k = max(rho * rho_decay**k, rho_min)
        with torch.no_grad():  # likelihood step
            if exact:  # perturb-and-MAP: an exact draw of the Gaussian conditional
                y_tilde = problem.y.to(x) + sigma_y * randn_like(problem.y.to(x), generator)
                x_tilde = x + rho_k * randn_like(x, generator)
                z = solve(x_tilde, sigma_y**2 / rho_k**2, y_tilde)
            else:
                z = _langevin(x, log_likelihood, rho_k, langevin_steps, langevin_lr, generator)
        z = ensure_finite(z, "PnP-DM", k, num_steps, _HINT)
        t_star = times_for_sigmas(acp, [rho_k])[0]
        with torch.no_grad():  # prior step: reverse diffusion from noise level ρ_k
            x = _denoise_from(prior, z, t_star, [s for s in levels if s < t_star], generator)
        x = ensure_finite(x, "PnP-DM", k, num_steps, _HINT)
        last = k == num_steps - 1
        yield Step(k, num_steps, 0 if last else t_star, x if last else z, x, {"rho": rho_k})


def _sigma_of(acp: Tensor):
    return lambda t: math.sqrt((1 - float(acp[t])) / float(acp[t]))


def _denoise_from(prior, z: Tensor, t_star: int, below: list[int], generator) -> Tensor:
    """A draw of p(x_0 | x_{t*} = √a_{t*} z): ancestral steps t* → below[0] → … → D(·)."""
    acp = prior.alphas_cumprod
    x = math.sqrt(float(acp[t_star])) * z
    times = [t_star, *below]
    for s, s_next in zip(times, times[1:]):
        x = ddpm_step(acp, s_next, s, x, prior.x0_pred(x, s), generator)
    return prior.x0_pred(x, times[-1])


def _langevin(x: Tensor, log_likelihood, rho: float, steps: int, lr: float, generator) -> Tensor:
    """Langevin dynamics on z ↦ log g(z) − ‖z − x‖²/(2ρ²), started at z = x."""
    z = x.detach().clone()
    for _ in range(steps):
        with torch.enable_grad():
            z = z.requires_grad_(True)
            (grad,) = torch.autograd.grad(log_likelihood(z).sum(), z)
        z = (z.detach() + lr * (grad - (z.detach() - x) / rho**2)) + math.sqrt(2 * lr) * randn_like(
            x, generator
        )
    return z
