"""Why MGPS has a midpoint trade-off, computed exactly on a Gaussian prior (Example 3.2,
Appendix B; docs/algorithms.md §8).

With a Gaussian prior N(μ, Σ) and a linear Gaussian likelihood, every approximation MGPS
makes is Gaussian and affine, so the law of the surrogate chain is Gaussian at every step and
its moments follow a recursion (Appendix B.1, eqs. (B.1)–(B.3)):

* midpoint law (x_ℓ | x_t) ∝ ĝ_ℓ(x_ℓ) p_{ℓ|t}(x_ℓ | x_t) = N(G x_t + h, C_post), with ĝ_ℓ the
  DPS potential N(y; A D_ℓ(x_ℓ), σ_y² I) and p_{ℓ|t} the DDPM transition;
* bridge x_{t'} = c_t x_t + c_m x_ℓ + std ξ, so with T = c_t I + c_m G:
  mean ← T mean + c_m h and Cov ← T Cov Tᵀ + c_m² C_post + std² I;
* the output D_{τ_1}(x_{τ_1}) is affine.

The surrogate makes two approximations; ``backward="exact"`` and ``potential="exact"`` swap
in the true transition / potential one at a time. :func:`decomposition` gives the W2 to the
posterior against η of each error alone and of both (the surrogate's, Example 3.2's curve):
the likelihood's error grows with η, the transition's shrinks, and the surrogate's is a U.
With both exact the chain is exact up to its final denoising step, whatever η.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from .metrics import gaussian_w2
from .priors.gaussian_mixture import default_toy_alphas_cumprod
from .schedules import bridge_coefficients, spaced_timesteps

__all__ = [
    "GaussianInstance",
    "random_instance",
    "surrogate_moments",
    "eta_curve",
    "ERRORS",
    "Decomposition",
    "decomposition",
]

f64 = torch.float64


@dataclass(frozen=True)
class GaussianInstance:
    """Prior N(mean, cov), observation y = A x* + sigma_y ε, and the exact posterior."""

    mean: Tensor
    cov: Tensor
    A: Tensor
    y: Tensor
    sigma_y: float

    def posterior(self) -> tuple[Tensor, Tensor]:
        """Exact posterior mean and covariance."""
        prec = torch.linalg.inv(self.cov) + self.A.T @ self.A / self.sigma_y**2
        cov = _sym(torch.linalg.inv(prec))
        mean = cov @ (torch.linalg.solve(self.cov, self.mean) + self.A.T @ self.y / self.sigma_y**2)
        return mean, cov


def _sym(m: Tensor) -> Tensor:
    return 0.5 * (m + m.T)


def random_instance(
    seed: int, dim: int = 100, obs_dim: int = 50, sigma_y: float = 0.1
) -> GaussianInstance:
    """The App. B configuration of the reference code: mean 0, Σ = M̃M̃ᵀ + λ̄ I (M̃ with i.i.d.
    N(0, 1) entries and normalised columns, λ̄ its mean squared singular value), A with i.i.d.
    N(0, 1) entries, y = A x* + σ_y ε with x* from the prior."""
    g = torch.Generator().manual_seed(seed)
    M = torch.randn(dim, dim, generator=g, dtype=f64)
    M = M / M.norm(dim=0, keepdim=True)
    mean_sq_singular = float((torch.linalg.svdvals(M) ** 2).mean())
    cov = M @ M.T + mean_sq_singular * torch.eye(dim, dtype=f64)
    mean = torch.zeros(dim, dtype=f64)
    A = torch.randn(obs_dim, dim, generator=g, dtype=f64)
    x_star = mean + torch.linalg.cholesky(cov) @ torch.randn(dim, generator=g, dtype=f64)
    y = A @ x_star + sigma_y * torch.randn(obs_dim, generator=g, dtype=f64)
    return GaussianInstance(mean, cov, A, y, sigma_y)


class _Denoisers:
    """Affine Tweedie denoisers D_t(x) = F_t x + f_t and posterior covariances Σ_{0|t}."""

    def __init__(self, inst: GaussianInstance, acp: Tensor) -> None:
        self.inst, self.acp = inst, acp
        self.eye = torch.eye(inst.mean.numel(), dtype=f64)
        self._cache: dict[int, tuple[Tensor, Tensor, Tensor]] = {}

    def __call__(self, t: int) -> tuple[Tensor, Tensor, Tensor]:
        if t not in self._cache:
            a = float(self.acp[t])
            cov0 = _sym(
                torch.linalg.solve(self.eye + (a / (1 - a)) * self.inst.cov, self.inst.cov)
            )  # Σ_{0|t}
            F = (math.sqrt(a) / (1 - a)) * cov0
            f = cov0 @ torch.linalg.solve(self.inst.cov, self.inst.mean)
            self._cache[t] = (F, f, cov0)
        return self._cache[t]


def surrogate_moments(
    inst: GaussianInstance,
    eta: float,
    num_steps: int = 300,
    *,
    backward: str = "ddpm",
    potential: str = "dps",
    alphas_cumprod: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """Mean and covariance of the MGPS surrogate's output for midpoint η (the moment recursion).

    Uses the same time grid and midpoint rule as :func:`mgps.samplers.mgps.mgps`:
    ℓ = min(max(1, ⌊η t'⌋), t').
    """
    if backward not in ("ddpm", "exact") or potential not in ("dps", "exact"):
        raise ValueError("backward must be 'ddpm' or 'exact'; potential 'dps' or 'exact'")
    acp = default_toy_alphas_cumprod() if alphas_cumprod is None else alphas_cumprod
    T = acp.numel() - 1
    timesteps = spaced_timesteps(T, num_steps)
    denoise = _Denoisers(inst, acp)
    A, y, s2 = inst.A, inst.y, inst.sigma_y**2
    eye = denoise.eye
    mean, cov = torch.zeros_like(inst.mean), eye.clone()
    for i in range(num_steps, 1, -1):
        t, t_prev = timesteps[i], timesteps[i - 1]
        t_mid = min(max(1, int(eta * t_prev)), t_prev)
        # prior transition x_ℓ | x_t ~ N(M x_t + m0, V)
        if backward == "ddpm":
            c0, cu, std = bridge_coefficients(acp, 0, t_mid, t, 1.0)
            F_t, f_t, _ = denoise(t)
            M, m0, V_prec = c0 * F_t + cu * eye, c0 * f_t, eye / std**2
        else:
            a_l, r = float(acp[t_mid]), float(acp[t]) / float(acp[t_mid])
            P_l = torch.linalg.inv((1 - a_l) * eye + a_l * inst.cov)
            cov_bw = _sym(torch.linalg.inv(P_l + (r / (1 - r)) * eye))
            M, m0, V_prec = (
                cov_bw * (math.sqrt(r) / (1 - r)),
                cov_bw @ (P_l @ (math.sqrt(a_l) * inst.mean)),
                _sym(torch.linalg.inv(cov_bw)),
            )
        # potential ĝ_ℓ(x_ℓ) = N(y; A(F x_ℓ + f), R)
        if t_mid > 1 or potential == "exact":  # the sampler applies g directly at ℓ = 1
            F_m, f_m, cov0_m = denoise(t_mid)
        else:
            F_m, f_m, cov0_m = eye, torch.zeros_like(inst.mean), torch.zeros_like(eye)
        R = s2 * torch.eye(y.numel(), dtype=f64) + (
            A @ cov0_m @ A.T if potential == "exact" else 0.0
        )
        H = A @ F_m
        R_inv_H = torch.linalg.solve(R, H)
        C_post = _sym(torch.linalg.inv(V_prec + H.T @ R_inv_H))
        G = C_post @ V_prec @ M
        h = C_post @ (V_prec @ m0 + R_inv_H.T @ (y - A @ f_m))
        # bridge x_{t'} = c_t x_t + c_m x_ℓ + std ξ
        c_m, c_t, std = bridge_coefficients(acp, t_mid, t_prev, t, 1.0)
        T_mat = c_t * eye + c_m * G
        mean = T_mat @ mean + c_m * h
        cov = _sym(T_mat @ cov @ T_mat.T + c_m**2 * C_post + std**2 * eye)
    F1, f1, _ = denoise(timesteps[1])
    return F1 @ mean + f1, _sym(F1 @ cov @ F1.T)


def eta_curve(
    etas: list[float] | np.ndarray,
    seeds: list[int],
    *,
    dim: int = 100,
    obs_dim: int = 50,
    sigma_y: float = 0.1,
    num_steps: int = 300,
    backward: str = "ddpm",
    potential: str = "dps",
) -> np.ndarray:
    """W2(surrogate, posterior) of shape ``(len(etas), len(seeds))``."""
    out = np.zeros((len(etas), len(seeds)))
    for j, seed in enumerate(seeds):
        inst = random_instance(seed, dim, obs_dim, sigma_y)
        post_mean, post_cov = inst.posterior()
        for k, eta in enumerate(etas):
            m, c = surrogate_moments(
                inst, float(eta), num_steps, backward=backward, potential=potential
            )
            out[k, j] = gaussian_w2(m, c, post_mean, post_cov)
    return out


# (backward transition, likelihood at the midpoint) of each curve of the decomposition
ERRORS: dict[str, tuple[str, str]] = {
    "likelihood": ("exact", "dps"),  # only the likelihood is approximated
    "transition": ("ddpm", "exact"),  # only the backward transition t → ℓ is approximated
    "surrogate": ("ddpm", "dps"),  # both: MGPS's surrogate, Example 3.2's curve
    "exact": ("exact", "exact"),  # neither: the final denoising's error alone
}


@dataclass
class Decomposition:
    """W2 to the exact posterior against η, shape ``(len(etas), len(seeds))`` per curve:
    ``likelihood`` (DPS likelihood at the midpoint, exact transition), ``transition``
    (Gaussian DDPM transition from t to ℓ, exact likelihood g_ℓ), ``surrogate`` (both, as
    MGPS) and ``exact`` (neither: the floor left by the final denoising step)."""

    etas: np.ndarray
    seeds: list[int]
    curves: dict[str, np.ndarray]

    def mean(self, name: str) -> np.ndarray:
        return self.curves[name].mean(axis=1)

    def crossing(self) -> float | None:
        """The η where the mean likelihood error first exceeds the mean transition error
        (linear interpolation on the grid); None if they do not cross."""
        d = self.mean("likelihood") - self.mean("transition")
        for k in range(len(d) - 1):
            if d[k] <= 0 < d[k + 1]:
                return float(
                    self.etas[k] - d[k] * (self.etas[k + 1] - self.etas[k]) / (d[k + 1] - d[k])
                )
        return None


def decomposition(
    etas: list[float] | np.ndarray,
    seeds: list[int],
    *,
    dim: int = 100,
    obs_dim: int = 50,
    sigma_y: float = 0.1,
    num_steps: int = 300,
) -> Decomposition:
    """Each source of the surrogate's error alone, both together, and neither (:data:`ERRORS`),
    on the Gaussian instances ``seeds`` of Example 3.2."""
    etas = np.asarray(etas, dtype=float)
    config = dict(dim=dim, obs_dim=obs_dim, sigma_y=sigma_y, num_steps=num_steps)
    curves = {}
    for name, (backward, potential) in ERRORS.items():
        # with both exact the error does not depend on η (a check in the tests): one η suffices
        grid = etas[:1] if name == "exact" else etas
        w2 = eta_curve(grid, seeds, backward=backward, potential=potential, **config)
        curves[name] = np.broadcast_to(w2, (len(etas), len(seeds))).copy()
    return Decomposition(etas, list(seeds), curves)
