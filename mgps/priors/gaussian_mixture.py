"""Exact Gaussian-mixture priors: closed-form denoiser, noised density and posterior.

A mixture p(x_0) = Σ_c w_c N(μ_c, Σ_c) stays a mixture under the forward process:
p_t = Σ_c w_c N(√a_t μ_c, a_t Σ_c + (1 − a_t) I)  (Appendix D.3; ``docs/algorithms.md`` §7), so the Tweedie denoiser
E[x_0 | x_t] and, for a linear Gaussian likelihood, the posterior are available exactly.
This is what every sampler is tested against.

Covariances are stored as ``Σ_c = s_c I + U_c diag(λ_c) U_cᵀ`` with ``U_c`` (d, k) orthonormal:
k = 0 gives isotropic components (the benchmark's identity covariances, the fast path),
k = d a full covariance, and 0 < k < d a probabilistic-PCA component (the digits prior).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence

import torch
from torch import Tensor

from ..schedules import linear_betas, padded_alphas_cumprod

__all__ = [
    "GaussianMixturePrior",
    "gaussian_prior",
    "gmm25",
    "default_toy_alphas_cumprod",
    "canonical_eigenvectors",
]


def default_toy_alphas_cumprod(num_train_timesteps: int = 1000) -> Tensor:
    """Padded ᾱ of the toys: α_j = linspace(0.9999, 0.98, T), clipped at 1e-10 (``docs/algorithms.md`` §1.1)."""
    alphas = 1.0 - linear_betas(num_train_timesteps, 1e-4, 0.02)
    return padded_alphas_cumprod(torch.cumprod(alphas, 0), clip_min=1e-10)


def canonical_eigenvectors(eigvals: Tensor, eigvecs: Tensor, rtol: float = 1e-9) -> Tensor:
    """``eigvecs`` ``(C, d, d)`` from ``torch.linalg.eigh`` with each repeated eigenvalue's
    eigenvectors replaced by a basis that depends on their subspace only.

    Within a repeated eigenvalue (the posterior of an isotropic prior has eigenvalue 1 with
    multiplicity d − d_y) any orthonormal basis is an answer, and LAPACK's choice changes with the
    machine and its instruction set; exact samples drawn along it (and every distance to them)
    would too. The canonical basis: the eigenvectors of VᵀDV for D = diag(1, …, d), signed so
    that each one's largest entry is positive. Simple eigenvalues keep LAPACK's vectors.
    """
    out = eigvecs.clone()
    d = eigvecs.shape[-1]
    ramp = torch.arange(1, d + 1, dtype=eigvecs.dtype, device=eigvecs.device)
    for c in range(eigvals.shape[0]):
        lam = eigvals[c]
        tol = rtol * max(1.0, float(lam.abs().max()))
        start = 0
        for end in range(1, d + 1):  # runs of (ascending) eigenvalues within tol of each other
            if end < d and float(lam[end] - lam[end - 1]) <= tol:
                continue
            if end - start > 1:
                V = eigvecs[c, :, start:end]
                _, R = torch.linalg.eigh(V.T @ (ramp[:, None] * V))
                W = V @ R
                peak = W.gather(0, W.abs().argmax(0, keepdim=True))
                out[c, :, start:end] = W * torch.where(peak < 0, -1.0, 1.0).to(W)
            start = end
    return out


class GaussianMixturePrior:
    """A Gaussian mixture with an exact diffusion denoiser.

    Args:
        weights: ``(C,)`` non-negative mixture weights (normalised here).
        means: ``(C, d)`` component means.
        covs: ``None`` for identity covariances, ``(C,)`` isotropic variances, or ``(C, d, d)``
            full covariances.
        alphas_cumprod: padded ``(T + 1,)`` schedule; defaults to the toys' linear schedule.
        dtype: dtype of the stored parameters (float64 by default: exact posteriors in float32
            are wrong at d = 200; ``docs/algorithms.md`` §10).

    Example:
        >>> prior = GaussianMixturePrior(torch.ones(2), torch.tensor([[-2.0], [2.0]]))
        >>> x0 = prior.x0_pred(torch.zeros(3, 1, dtype=torch.float64), t=500)
        >>> bool(torch.allclose(x0, torch.zeros(3, 1, dtype=torch.float64)))
        True
    """

    def __init__(
        self,
        weights: Tensor | Sequence[float],
        means: Tensor,
        covs: Tensor | None = None,
        *,
        alphas_cumprod: Tensor | None = None,
        dtype: torch.dtype = torch.float64,
        event_shape: tuple[int, ...] | None = None,
    ) -> None:
        means = torch.as_tensor(means, dtype=dtype)
        if means.ndim != 2:
            raise ValueError(f"means must have shape (C, d), got {tuple(means.shape)}")
        C, d = means.shape
        weights = torch.as_tensor(weights, dtype=dtype).flatten()
        if weights.numel() != C:
            raise ValueError(f"{weights.numel()} weights for {C} means")
        if bool((weights < 0).any()) or float(weights.sum()) <= 0:
            raise ValueError("mixture weights must be non-negative and not all zero")
        if covs is None:
            iso, basis, extra = (
                torch.ones(C, dtype=dtype),
                torch.zeros(C, d, 0, dtype=dtype),
                torch.zeros(C, 0, dtype=dtype),
            )
        else:
            covs = torch.as_tensor(covs, dtype=dtype)
            if covs.shape == (C,):
                if bool((covs <= 0).any()):
                    raise ValueError("isotropic variances must be positive")
                iso, basis, extra = (
                    covs.clone(),
                    torch.zeros(C, d, 0, dtype=dtype),
                    torch.zeros(C, 0, dtype=dtype),
                )
            elif covs.shape == (C, d, d):
                sym = 0.5 * (covs + covs.transpose(1, 2))
                eigvals, eigvecs = torch.linalg.eigh(sym)
                if bool((eigvals < -1e-8 * eigvals.abs().max()).any()):
                    raise ValueError("covariances must be positive semi-definite")
                eigvecs = canonical_eigenvectors(eigvals, eigvecs)
                iso, basis, extra = torch.zeros(C, dtype=dtype), eigvecs, eigvals.clamp_min(0.0)
            else:
                raise ValueError(
                    f"covs must be None, (C,) or (C, d, d) = ({C}, {d}, {d}); got {tuple(covs.shape)}"
                )
        self._set(weights / weights.sum(), means, iso, basis, extra)
        self.alphas_cumprod = (
            default_toy_alphas_cumprod()
            if alphas_cumprod is None
            else torch.as_tensor(alphas_cumprod, dtype=torch.float64)
        )
        self.dtype = dtype
        if event_shape is not None and math.prod(event_shape) != d:
            raise ValueError(f"event_shape {tuple(event_shape)} does not have {d} entries")
        self.event_shape = tuple(event_shape) if event_shape is not None else (d,)

    @classmethod
    def low_rank(
        cls,
        weights: Tensor,
        means: Tensor,
        basis: Tensor,
        extra_var: Tensor,
        iso_var: Tensor,
        *,
        alphas_cumprod: Tensor | None = None,
        dtype: torch.dtype = torch.float64,
        event_shape: tuple[int, ...] | None = None,
    ) -> GaussianMixturePrior:
        """Mixture of probabilistic PCA: Σ_c = iso_var_c I + basis_c diag(extra_var_c) basis_cᵀ.

        Args:
            basis: ``(C, d, k)`` with orthonormal columns.
            extra_var: ``(C, k)`` variance added along each basis direction (≥ 0).
            iso_var: ``(C,)`` isotropic variance (> 0 unless k = d).
        """
        prior = cls(
            weights,
            means,
            None,
            alphas_cumprod=alphas_cumprod,
            dtype=dtype,
            event_shape=event_shape,
        )
        basis = torch.as_tensor(basis, dtype=dtype)
        C, d = prior.means.shape
        if basis.ndim != 3 or basis.shape[:2] != (C, d):
            raise ValueError(f"basis must have shape ({C}, {d}, k), got {tuple(basis.shape)}")
        prior._set(
            prior.weights,
            prior.means,
            torch.as_tensor(iso_var, dtype=dtype).reshape(C),
            basis,
            torch.as_tensor(extra_var, dtype=dtype).reshape(C, basis.shape[2]),
        )
        return prior

    def _set(
        self, weights: Tensor, means: Tensor, iso: Tensor, basis: Tensor, extra: Tensor
    ) -> None:
        self.weights, self.means, self.iso_var, self.basis, self.extra_var = (
            weights,
            means,
            iso,
            basis,
            extra,
        )
        self._cast_cache: dict[tuple[torch.dtype, torch.device], tuple[Tensor, ...]] = {}

    # ------------------------------------------------------------------ basic facts
    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of one sample: ``(d,)``, or the ``event_shape`` given (e.g. ``(1, 28, 28)``)."""
        return self.event_shape

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    @property
    def num_components(self) -> int:
        return self.means.shape[0]

    @property
    def num_train_timesteps(self) -> int:
        return self.alphas_cumprod.numel() - 1

    @property
    def device(self) -> torch.device:
        return self.means.device

    def covariances(self) -> Tensor:
        """``(C, d, d)`` component covariances."""
        eye = torch.eye(self.dim, dtype=self.means.dtype, device=self.means.device)
        low = torch.einsum("cdk,ck,cek->cde", self.basis, self.extra_var, self.basis)
        return self.iso_var[:, None, None] * eye + low

    def mean(self) -> Tensor:
        """``(d,)`` mixture mean."""
        return self.weights @ self.means

    def variance(self) -> Tensor:
        """``(d,)`` per-coordinate variance of the mixture (the covariance's diagonal, without
        forming any d × d matrix)."""
        m = self.mean()
        diag_c = self.iso_var[:, None] + torch.einsum("cdk,ck->cd", self.basis**2, self.extra_var)
        return self.weights @ (diag_c + self.means**2) - m**2

    def covariance(self) -> Tensor:
        """``(d, d)`` mixture covariance."""
        m = self.mean()
        second = torch.einsum("c,cd,ce->de", self.weights, self.means, self.means)
        within = torch.einsum("c,cde->de", self.weights, self.covariances())
        return within + second - torch.outer(m, m)

    def _params(self, like: Tensor) -> tuple[Tensor, ...]:
        key = (like.dtype, like.device)
        if key not in self._cast_cache:
            self._cast_cache[key] = tuple(
                p.to(dtype=like.dtype, device=like.device)
                for p in (self.weights, self.means, self.iso_var, self.basis, self.extra_var)
            )
        return self._cast_cache[key]

    # ------------------------------------------------------------------ the noised mixture
    def _component_terms(self, x: Tensor, a: float) -> tuple[Tensor, ...]:
        """Per-component quantities of p_t at x: log responsibilities and projections."""
        w, mu, iso, U, lam = self._params(x)
        d, k = mu.shape[1], U.shape[2]
        sa = math.sqrt(a)
        v = a * iso + (1.0 - a)  # (C,) variance off the basis
        denom = a * lam + v[:, None]  # (C, k) variance along the basis
        sq = (
            (x * x).sum(1, keepdim=True) - 2 * sa * x @ mu.T + a * (mu * mu).sum(1)
        )  # (B, C) ‖x − √a μ_c‖²
        if k:
            C = U.shape[0]
            proj = (x @ U.permute(1, 0, 2).reshape(d, C * k)).reshape(-1, C, k)
            p = proj - sa * torch.einsum("cd,cdk->ck", mu, U)  # (B, C, k) = U_cᵀ(x − √a μ_c)
            p2 = p * p
            along = (p2 / denom).sum(2)
            off = (sq - p2.sum(2)).clamp_min(0.0) / v if k < d else torch.zeros_like(sq)
        else:
            p = None
            along = torch.zeros_like(sq)
            off = sq / v
        logdet = torch.log(denom).sum(1) + ((d - k) * torch.log(v) if k < d else 0.0)  # (C,)
        log_joint = torch.log(w) - 0.5 * (
            off + along + logdet + d * math.log(2 * math.pi)
        )  # (B, C)
        return log_joint, p, v, denom

    def log_prob_t(self, x_t: Tensor, t: int) -> Tensor:
        """log p_t(x_t), shape ``(B,)``; ``t = 0`` is the clean density."""
        a = float(self.alphas_cumprod[t])
        log_joint, *_ = self._component_terms(x_t.flatten(1), a)
        return torch.logsumexp(log_joint, 1)

    def log_prob(self, x: Tensor) -> Tensor:
        """log p(x), shape ``(B,)``."""
        log_joint, *_ = self._component_terms(x.flatten(1), 1.0)
        return torch.logsumexp(log_joint, 1)

    def x0_pred(self, x_t: Tensor, t: int) -> Tensor:
        """Exact E[x_0 | x_t] = Σ_c γ_c(x_t) (μ_c + √a Σ_c (aΣ_c + (1−a)I)⁻¹ (x_t − √a μ_c))."""
        if t == 0:
            return x_t
        a = float(self.alphas_cumprod[t])
        sa = math.sqrt(a)
        x = x_t.flatten(1)
        _, mu, iso, U, lam = self._params(x)
        log_joint, p, v, denom = self._component_terms(x, a)
        resp = torch.softmax(log_joint, 1)  # (B, C) posterior component probabilities γ_c
        out = x * (sa * (resp * (iso / v)).sum(1, keepdim=True)) + (resp * (1 - a * iso / v)) @ mu
        if p is not None:
            coef = (iso[:, None] + lam) / denom - (iso / v)[:, None]  # (C, k)
            weighted = (resp[:, :, None] * coef * p).reshape(x.shape[0], -1)  # (B, C·k)
            out = out + sa * weighted @ U.permute(0, 2, 1).reshape(
                -1, U.shape[1]
            )  # Σ_c γ_c U_c (coef ⊙ p_c)
        return out.reshape(x_t.shape)

    def score(self, x_t: Tensor, t: int) -> Tensor:
        """∇ log p_t(x_t) = (√a D_t(x) − x) / (1 − a)."""
        a = float(self.alphas_cumprod[t])
        return (math.sqrt(a) * self.x0_pred(x_t, t) - x_t) / (1.0 - a)

    # ------------------------------------------------------------------ sampling
    def sample(self, num_samples: int, generator: torch.Generator | None = None) -> Tensor:
        """Draw ``(num_samples, *shape)`` exact samples."""
        w, mu, iso, U, lam = self.weights, self.means, self.iso_var, self.basis, self.extra_var
        gen_device = generator.device if generator is not None else mu.device
        comp = torch.multinomial(
            w.to(gen_device).float(), num_samples, replacement=True, generator=generator
        ).to(mu.device)
        noise = torch.randn(
            num_samples, self.dim, generator=generator, dtype=mu.dtype, device=gen_device
        ).to(mu.device)
        x = mu[comp] + iso[comp].sqrt()[:, None] * noise
        if U.shape[2]:
            low = torch.randn(
                num_samples, U.shape[2], generator=generator, dtype=mu.dtype, device=gen_device
            ).to(mu.device)
            for c in comp.unique().tolist():  # one matmul per component, not a (B, d, k) gather
                rows = comp == c
                x[rows] = x[rows] + (lam[c].sqrt() * low[rows]) @ U[c].T
        return x.reshape(num_samples, *self.shape)

    # ------------------------------------------------------------------ exact posterior
    def posterior(self, A: Tensor, y: Tensor, sigma_y: float) -> GaussianMixturePrior:
        """The exact posterior for y = A x + σ_y ε: a Gaussian mixture (Appendix D.3; ``docs/algorithms.md`` §7).

        Per component (Woodbury form, no Σ_c⁻¹ needed): S = A Σ_c Aᵀ + σ² I,
        μ'_c = μ_c + Σ_c Aᵀ S⁻¹ (y − A μ_c), Σ'_c = Σ_c − Σ_c Aᵀ S⁻¹ A Σ_c,
        w'_c ∝ w_c N(y; A μ_c, S). Computed in float64.

        Args:
            A: ``(d_y, d)`` matrix.
            y: ``(d_y,)`` or ``(1, d_y)`` observation.
            sigma_y: noise standard deviation.
        """
        f64 = torch.float64
        A = torch.as_tensor(A, dtype=f64, device=self.means.device)
        y = torch.as_tensor(y, dtype=f64, device=self.means.device).reshape(-1)
        if A.ndim != 2 or A.shape[1] != self.dim or A.shape[0] != y.numel():
            raise ValueError(f"A must be ({y.numel()}, {self.dim}); got {tuple(A.shape)}")
        mu, w = self.means.to(f64), self.weights.to(f64)
        covs = self.to(dtype=f64).covariances()  # in float64 even for a float32 prior
        m = A.shape[0]
        A_cov = A @ covs  # (C, m, d) = A Σ_c
        S = A_cov @ A.T + sigma_y**2 * torch.eye(m, dtype=f64, device=A.device)
        S = 0.5 * (S + S.transpose(1, 2))
        L = torch.linalg.cholesky(S)
        resid = y - mu @ A.T  # (C, m)
        sol = torch.cholesky_solve(resid[..., None], L)[..., 0]  # S⁻¹ (y − A μ_c)
        post_means = mu + torch.einsum("cmd,cm->cd", A_cov, sol)
        gain = torch.cholesky_solve(A_cov, L)  # S⁻¹ A Σ_c
        post_covs = covs - A_cov.transpose(1, 2) @ gain
        post_covs = 0.5 * (post_covs + post_covs.transpose(1, 2))
        logdet_S = 2 * torch.log(torch.diagonal(L, dim1=1, dim2=2)).sum(1)
        log_w = torch.log(w) - 0.5 * ((resid * sol).sum(1) + logdet_S + m * math.log(2 * math.pi))
        post_w = torch.softmax(log_w, 0)
        return GaussianMixturePrior(
            post_w,
            post_means,
            post_covs,
            alphas_cumprod=self.alphas_cumprod,
            dtype=f64,
            event_shape=self.event_shape,
        )

    def posterior_for(self, problem) -> GaussianMixturePrior:
        """The exact posterior for an :class:`~mgps.types.InverseProblem` with a linear operator
        (its matrix is materialised if the operator does not carry one)."""
        from ..operators.base import dense_matrix

        if not getattr(problem.operator, "linear", False):
            name = getattr(problem.operator, "name", "this operator")
            raise ValueError(f"the exact posterior needs a linear operator; {name!r} is nonlinear")
        if problem.y.shape[0] != 1:
            raise ValueError("the exact posterior is for one observation (y with batch size 1)")
        A = dense_matrix(problem.operator, self.shape)
        return self.posterior(A, problem.y.reshape(-1), float(problem.sigma_y))

    def to(
        self, device: torch.device | str | None = None, dtype: torch.dtype | None = None
    ) -> GaussianMixturePrior:
        """A copy with parameters on ``device`` and/or in ``dtype`` (samplers run in ``dtype``)."""
        new = copy.copy(self)
        new._set(
            *(
                p.to(device=device, dtype=dtype)
                for p in (self.weights, self.means, self.iso_var, self.basis, self.extra_var)
            )
        )
        new.dtype = dtype or self.dtype
        return new


def gaussian_prior(
    mean: Tensor, cov: Tensor, *, alphas_cumprod: Tensor | None = None
) -> GaussianMixturePrior:
    """A Gaussian prior N(mean, cov) with closed-form denoiser and posterior (a 1-component mixture)."""
    mean = torch.as_tensor(mean, dtype=torch.float64)
    cov = torch.as_tensor(cov, dtype=torch.float64)
    return GaussianMixturePrior(torch.ones(1), mean[None], cov[None], alphas_cumprod=alphas_cumprod)


def gmm25(
    dim: int, generator: torch.Generator | None = None, *, spacing: float = 8.0
) -> GaussianMixturePrior:
    """The 25-component benchmark mixture of the paper's Gaussian-mixture experiment (Cardoso et al. 2023; ``docs/algorithms.md`` §7).

    Means (8i, 8j, 8i, 8j, ...) for (i, j) ∈ {−2..2}², unit covariances, weights U[0, 1]
    normalised. ``dim`` must be even.
    """
    if dim < 2 or dim % 2:
        raise ValueError(f"the 25-component mixture needs an even dimension >= 2, got {dim}")
    grid = (
        torch.tensor([(i, j) for i in range(-2, 3) for j in range(-2, 3)], dtype=torch.float64)
        * spacing
    )
    means = grid.repeat(1, dim // 2)
    weights = torch.rand(25, generator=generator, dtype=torch.float64)
    return GaussianMixturePrior(weights, means)
