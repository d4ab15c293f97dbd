"""Noise schedules, time grids, Tweedie conversions and the bridge kernel (``docs/algorithms.md`` §1).

Notation: ``a_t = alphas_cumprod[t]`` on the padded grid (``a_0 = 1`` is clean data).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = [
    "linear_betas",
    "padded_alphas_cumprod",
    "spaced_timesteps",
    "eps_from_x0",
    "x0_from_eps",
    "x0_from_v",
    "bridge_coefficients",
    "bridge_mean_std",
    "bridge_sample",
    "ddpm_step",
    "sigma_grid",
    "times_for_sigmas",
]


def linear_betas(
    num_train_timesteps: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02
) -> Tensor:
    """β_j = linspace(β_start, β_end, T) in float64 (the DDPM 'linear' schedule)."""
    return torch.linspace(beta_start, beta_end, num_train_timesteps, dtype=torch.float64)


def padded_alphas_cumprod(alphas_cumprod: Tensor, clip_min: float = 1e-10) -> Tensor:
    """Prepend ᾱ = 1 (clean data) to a length-T ᾱ array: ``acp[0] = 1``, ``acp[t] = ᾱ_{t-1}``.

    Values are clipped to ``[clip_min, 1]`` (the reference code clips at 1e-6 for images and
    1e-10 for the toys) and returned in float64.
    """
    acp = torch.as_tensor(alphas_cumprod, dtype=torch.float64).flatten()
    if acp.numel() < 2:
        raise ValueError("alphas_cumprod needs at least two noise levels")
    if not bool((acp[1:] <= acp[:-1]).all()):
        raise ValueError("alphas_cumprod must be non-increasing")
    return torch.cat([torch.ones(1, dtype=torch.float64), acp.clamp(clip_min, 1.0)])


def spaced_timesteps(num_train_timesteps: int, num_steps: int) -> list[int]:
    """The time grid τ_0 = 0 < τ_1 < ... < τ_K = T for K = ``num_steps`` iterations.

    τ_k = ⌊k T / K⌋. A sampler walks it from τ_K (pure noise) down to τ_0 (clean), so
    ``num_steps`` is the number of iterations (and of yielded Steps).
    """
    T = int(num_train_timesteps)
    if not isinstance(num_steps, int) or isinstance(num_steps, bool):
        raise ValueError(f"num_steps must be an integer, got {num_steps!r}")
    if num_steps < 2 or num_steps > T:
        raise ValueError(
            f"num_steps must be between 2 and {T} (the prior's number of noise levels); got {num_steps}"
        )
    return [(k * T) // num_steps for k in range(num_steps + 1)]


def eps_from_x0(x_t: Tensor, x0: Tensor, alpha_cumprod_t: float) -> Tensor:
    """ε̂ = (x_t − √a_t x̂_0) / √(1 − a_t)."""
    return (x_t - math.sqrt(alpha_cumprod_t) * x0) / math.sqrt(1.0 - alpha_cumprod_t)


def x0_from_eps(x_t: Tensor, eps: Tensor, alpha_cumprod_t: float) -> Tensor:
    """Tweedie from an ε-prediction: x̂_0 = (x_t − √(1 − a_t) ε̂) / √a_t  (``docs/algorithms.md`` §1.3)."""
    return (x_t - math.sqrt(1.0 - alpha_cumprod_t) * eps) / math.sqrt(alpha_cumprod_t)


def x0_from_v(x_t: Tensor, v: Tensor, alpha_cumprod_t: float) -> Tensor:
    """From a v-prediction (v = √a ε − √(1−a) x_0): x̂_0 = √a_t x_t − √(1 − a_t) v."""
    return math.sqrt(alpha_cumprod_t) * x_t - math.sqrt(1.0 - alpha_cumprod_t) * v


def bridge_coefficients(
    alphas_cumprod: Tensor, s: int, t: int, u: int, eta_ddim: float = 1.0
) -> tuple[float, float, float]:
    """Coefficients (c_s, c_u, std) of the bridge q(x_t | x_s, x_u) for s ≤ t ≤ u (``docs/algorithms.md`` §1.4).

    DDIM-η form: with r_ts = a_t/a_s, r_us = a_u/a_s, r_ut = a_u/a_t,
    v = (1 − r_ut)(1 − r_ts)/(1 − r_us), std = η √v, c_u = √((1 − r_ts − std²)/(1 − r_us)),
    c_s = √r_ts − c_u √r_us. η = 1 is the exact forward-process bridge; t = s returns x_s and
    t = u returns x_u exactly.
    """
    if not (0 <= s <= t <= u):
        raise ValueError(f"the bridge needs 0 <= s <= t <= u, got s={s}, t={t}, u={u}")
    a_s, a_t, a_u = (float(alphas_cumprod[i]) for i in (s, t, u))
    if t == s:
        return 1.0, 0.0, 0.0
    if t == u:
        return 0.0, 1.0, 0.0
    r_ts, r_us, r_ut = a_t / a_s, a_u / a_s, a_u / a_t
    var = (1.0 - r_ut) * (1.0 - r_ts) / (1.0 - r_us)
    std = eta_ddim * math.sqrt(max(var, 0.0))
    c_u = math.sqrt(max(1.0 - r_ts - std**2, 0.0) / (1.0 - r_us))
    c_s = math.sqrt(r_ts) - c_u * math.sqrt(r_us)
    return c_s, c_u, std


def bridge_mean_std(
    alphas_cumprod: Tensor, s: int, t: int, u: int, x_s: Tensor, x_u: Tensor, eta_ddim: float = 1.0
) -> tuple[Tensor, float]:
    """Mean ``c_s x_s + c_u x_u`` and std of q(x_t | x_s, x_u)."""
    c_s, c_u, std = bridge_coefficients(alphas_cumprod, s, t, u, eta_ddim)
    return c_s * x_s + c_u * x_u, std


def bridge_sample(
    alphas_cumprod: Tensor,
    s: int,
    t: int,
    u: int,
    x_s: Tensor,
    x_u: Tensor,
    generator: torch.Generator | None,
    eta_ddim: float = 1.0,
) -> Tensor:
    """Draw x_t ~ q(x_t | x_s, x_u)."""
    mean, std = bridge_mean_std(alphas_cumprod, s, t, u, x_s, x_u, eta_ddim)
    if std == 0.0:
        return mean
    return mean + std * randn_like(mean, generator)


def ddpm_step(
    alphas_cumprod: Tensor,
    t_prev: int,
    t: int,
    x_t: Tensor,
    x0_hat: Tensor,
    generator: torch.Generator | None,
    eta_ddim: float = 1.0,
) -> Tensor:
    """p_{t'|t}(· | x_t) = q(x_{t'} | x_0 = x̂_0, x_t): DDPM for η = 1, DDIM for η = 0 (``docs/algorithms.md`` §1.5)."""
    return bridge_sample(alphas_cumprod, 0, t_prev, t, x0_hat, x_t, generator, eta_ddim)


def randn_like(x: Tensor, generator: torch.Generator | None) -> Tensor:
    """Standard normal noise shaped like ``x`` drawn from ``generator`` (never the global RNG
    when a generator is given). A CPU generator also serves tensors on another device, so a
    seed gives the same noise everywhere."""
    if generator is not None and generator.device != x.device:
        return torch.randn(x.shape, generator=generator, dtype=x.dtype, device=generator.device).to(
            x.device
        )
    return torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)


def sigma_grid(sigma_max: float, sigma_min: float, num: int, rho: float = 7.0) -> list[float]:
    """The EDM noise grid (Karras et al. 2022, Eq. 5): (σ_max^{1/ρ} + i/num (σ_min^{1/ρ} −
    σ_max^{1/ρ}))^ρ for i = 0 … num − 1, i.e. ``num`` decreasing levels from σ_max that stop one
    short of σ_min (the level after them is 0), as DAPS and PnP-DM discretise their noise."""
    a, b = sigma_max ** (1 / rho), sigma_min ** (1 / rho)
    return [(a + i / num * (b - a)) ** rho for i in range(num)]


def times_for_sigmas(alphas_cumprod: Tensor, sigmas: list[float]) -> list[int]:
    """The padded times t ≥ 1 whose σ_t = √((1 − a_t)/a_t) (the variance-exploding noise level of
    x_t/√a_t) is nearest to each σ in log scale, made strictly decreasing for a decreasing list
    (so up to T levels map to distinct times)."""
    acp = alphas_cumprod.double()
    T = acp.numel() - 1
    log_sigma_t = 0.5 * ((1 - acp[1:]) / acp[1:]).log()  # times 1..T
    targets = torch.tensor([math.log(s) for s in sigmas], dtype=torch.float64)
    times = ((log_sigma_t[None, :] - targets[:, None]).abs().argmin(1) + 1).tolist()
    for i in range(len(times) - 2, -1, -1):  # strictly decreasing, bottom up …
        times[i] = max(times[i], times[i + 1] + 1)
    for i in range(len(times)):  # … and at most T, top down
        times[i] = min(times[i], T - i)
    return times
