"""DCPS: Divide-and-Conquer Posterior Sampling (Janati, Moufad et al., NeurIPS 2024;
the authors' released implementation, ``src/posterior_samplers/dcps.py`` of Badr-MOUFAD/dcps).

The diffusion's time grid τ_0 = 0 < … < τ_K = T is cut into L blocks at k_0 = 0 < k_1 < … <
k_L = T. Each block end carries an intermediate posterior π_ℓ(x) ∝ g_ℓ(x) p_{k_ℓ}(x) with the
potential (the likelihood of the rescaled state)

    g_ℓ(x) = exp(−‖√a_{k_ℓ} y − √a_{k_ℓ} A(x/√a_{k_ℓ})‖² / (2σ_y²)),   g_0 = g,

which is N(√a y; A x, σ_y² I) for a linear A, the authors' choice. Going from π_{ℓ+1} to π_ℓ is
a smaller posterior-sampling problem, solved on the block's own grid:

1. initialisation: a few steps of (tamed) unadjusted Langevin at the block's top time k_{ℓ+1},
   started from the previous block's samples, on log p_{k_{ℓ+1}}(x) + log g_ℓ(m(x)), with m(x)
   the DDPM mean of x_{k_ℓ} given x (the prior's score through the denoiser);
2. each transition τ_i → τ_{i−1} of the block draws from a Gaussian λ = N(μ, diag e^{2v})
   fitted to the tilted transition ∝ g_ℓ(X_{k_ℓ}) p_{τ_{i−1}|τ_i}(x | x_{τ_i}), X_{k_ℓ} drawn
   from p_{k_ℓ|τ_{i−1}}(· | x), by ``gradient_steps`` steps on the reparameterised loss

       L(μ, v) = −log g_ℓ(X_{k_ℓ}) + KL(λ ‖ p_{τ_{i−1}|τ_i}(· | x_{τ_i})),

   started at the prior transition; each step moves μ and v by ``lr`` along their normalised
   gradients (per sample).

The last block ends at k_0 = 0, where g_0 is the likelihood itself; the sample is D(x_{τ_1}).
Defaults are those of the authors' released image demo (K = 300 over L = 3 equal blocks, 5
Langevin steps of 1e-3, 2 normalised-gradient steps of 1.5); their trajectory demo (a few
dimensions) uses lr = 0.05: the normalised step is a step of fixed length, so lr scales with
√(dimension). Pixel priors only (the potential rescales the noisy state, which means nothing
for a latent).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import torch
from torch import Tensor

from ..registry import SAMPLERS, Param
from ..schedules import bridge_mean_std, randn_like
from ..types import InverseProblem, Step, append_dims
from .common import ensure_finite, start

__all__ = ["dcps"]

_HINT = "Try a smaller lr or langevin_lr, or more diffusion steps."


@SAMPLERS.register(
    "dcps",
    label="DCPS",
    params=(
        Param("num_steps", low=2, high=1000, step=1, help="diffusion steps K (all blocks)"),
        Param("num_blocks", low=1, high=50, step=1, help="L: blocks of the time grid"),
        Param(
            "langevin_steps", low=0, high=1000, step=1, help="Langevin steps at each block start"
        ),
        Param("langevin_lr", low=1e-8, high=1.0, step=1e-4, help="Langevin step size γ"),
        Param(
            "gradient_steps",
            low=0,
            high=100,
            step=1,
            help="normalised-gradient steps per transition",
        ),
        Param(
            "lr",
            low=1e-4,
            high=100.0,
            step=0.01,
            help="length of each normalised step (scales with √dimension)",
        ),
    ),
    tags={"pixel", "nonlinear"},
    reference="Janati, Moufad et al., Divide-and-Conquer Posterior Sampling for Denoising Diffusion Priors, NeurIPS 2024",
)
def dcps(
    prior,
    problem: InverseProblem,
    *,
    num_steps: int = 300,
    num_blocks: int = 3,
    langevin_steps: int = 5,
    langevin_lr: float = 1e-3,
    gradient_steps: int = 2,
    lr: float = 1.5,
    num_samples: int = 1,
    generator: torch.Generator | None = None,
    x_init: Tensor | None = None,
) -> Iterator[Step]:
    """DCPS; yields one :class:`Step` per diffusion step.

    Args:
        prior, problem: see :func:`mgps.samplers.mgps.mgps`.
        num_steps: diffusion steps K, shared equally by the blocks.
        num_blocks: L, the number of intermediate posteriors (≤ K).
        langevin_steps, langevin_lr: the Langevin initialisation of each block.
        gradient_steps, lr: the variational fit of each transition.
        num_samples, generator, x_init: batch size, randomness, initial noise.

    Yields:
        Step with ``extras = {"block": ℓ, "potential_time": k_ℓ}``.
    """
    if not (lr > 0 and langevin_lr > 0):
        raise ValueError(f"lr and langevin_lr must be positive; got {lr}, {langevin_lr}")
    for name, value in (("langevin_steps", langevin_steps), ("gradient_steps", gradient_steps)):
        if not isinstance(value, int) or not 0 <= value <= 10_000:
            raise ValueError(f"{name} must be an integer between 0 and 10000, got {value!r}")
    acp = prior.alphas_cumprod
    timesteps, x = start("dcps", prior, problem, num_steps, num_samples, x_init, generator)
    if not isinstance(num_blocks, int) or not 1 <= num_blocks <= num_steps:
        raise ValueError(
            f"num_blocks must be an integer between 1 and num_steps = {num_steps}, got {num_blocks!r}"
        )
    bounds = [round(b * num_steps / num_blocks) for b in range(num_blocks + 1)]  # grid indices

    for block in range(num_blocks, 0, -1):
        top, bottom = bounds[block], bounds[block - 1]
        k_low = timesteps[bottom]
        log_potential = _potential(problem, float(acp[k_low]))
        x = _langevin(
            prior, x, timesteps[top], k_low, log_potential, langevin_steps, langevin_lr, generator
        )
        x = ensure_finite(x, "DCPS", num_steps - top, num_steps, _HINT)
        for i in range(top, max(bottom, 1), -1):
            t, t_prev = timesteps[i], timesteps[i - 1]
            with torch.no_grad():
                x0_hat = prior.x0_pred(x, t)
                mean_p, std_p = bridge_mean_std(acp, 0, t_prev, t, x0_hat, x)  # p_{τ_{i−1}|τ_i}

            def loss_fn(
                z: Tensor, mu: Tensor, log_std: Tensor, t_prev=t_prev, mean_p=mean_p, std_p=std_p
            ) -> Tensor:
                if t_prev > k_low:  # X_{k_ℓ} ~ p_{k_ℓ|τ_{i−1}}(· | z)
                    mean, std = bridge_mean_std(acp, 0, k_low, t_prev, prior.x0_pred(z, t_prev), z)
                    z = mean + std * randn_like(mean, generator)
                kl = 0.5 * (
                    ((2 * log_std).exp() + (mu - mean_p) ** 2) / std_p**2 - 2 * log_std
                ).flatten(1).sum(1)
                return -log_potential(z) + kl

            mu, log_std = _normalised_descent(loss_fn, mean_p, std_p, gradient_steps, lr, generator)
            x = ensure_finite(
                mu + log_std.exp() * randn_like(mu, generator),
                "DCPS",
                num_steps - i,
                num_steps,
                _HINT,
            )
            yield Step(
                num_steps - i,
                num_steps,
                t_prev,
                x,
                x0_hat,
                {"block": block - 1, "potential_time": k_low},
            )

    with torch.no_grad():
        x0 = ensure_finite(prior.x0_pred(x, timesteps[1]), "DCPS", num_steps - 1, num_steps, _HINT)
    yield Step(num_steps - 1, num_steps, 0, x0, x0, {})


def _potential(problem: InverseProblem, a: float) -> Callable[[Tensor], Tensor]:
    """log g_ℓ(x) = −a ‖y − A(x/√a)‖²/(2σ_y²) for the block end with ᾱ = a (a = 1: log g)."""
    scale = 2.0 * float(problem.sigma_y) ** 2
    return lambda x: -a * problem.residual(x / math.sqrt(a)).flatten(1).pow(2).sum(1) / scale


def _langevin(
    prior, x: Tensor, t: int, k_low: int, log_potential, steps: int, gamma: float, generator
) -> Tensor:
    """Tamed ULA on log p_t(x) + log g_ℓ(m(x)), m(x) the DDPM mean of x_{k_ℓ} given x_t = x:
    x ← x + γ/(1 + γ‖∇‖) ∇ + √(2γ) ε."""
    acp = prior.alphas_cumprod
    a_t = float(acp[t])
    for _ in range(steps):
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            x0_hat = prior.x0_pred(x, t)
            mean, _ = bridge_mean_std(acp, 0, k_low, t, x0_hat, x)
            (grad,) = torch.autograd.grad(log_potential(mean).sum(), x)
        with torch.no_grad():
            grad = grad + (math.sqrt(a_t) * x0_hat - x) / (1 - a_t)  # + ∇log p_t (Tweedie)
            norm = append_dims(grad.flatten(1).norm(dim=1), x.ndim)
            x = (
                x
                + gamma / (1 + gamma * norm) * grad
                + math.sqrt(2 * gamma) * randn_like(x, generator)
            )
    return x.detach()


def _normalised_descent(
    loss_fn, mean: Tensor, std: float, steps: int, lr: float, generator
) -> tuple[Tensor, Tensor]:
    """Per-sample normalised gradient steps v ← v − lr ∇v/‖∇v‖ on φ = (μ, log σ) of
    N(μ, diag σ²), with one fresh reparameterised draw z = μ + σ ε per step."""
    mu = mean.detach().clone()
    log_std = torch.full_like(mu, math.log(max(std, 1e-12)))
    for _ in range(steps):
        with torch.enable_grad():
            mu, log_std = mu.requires_grad_(True), log_std.requires_grad_(True)
            z = mu + log_std.exp() * randn_like(mu, generator)
            grads = torch.autograd.grad(loss_fn(z, mu, log_std).sum(), [mu, log_std])
        with torch.no_grad():
            mu, log_std = (
                v.detach() - lr * g / append_dims(g.flatten(1).norm(dim=1).clamp_min(1e-8), g.ndim)
                for v, g in zip((mu, log_std), grads)
            )
    return mu.detach(), log_std.detach()
