"""Regularised least squares for any linear operator: the SVD when it has one, conjugate
gradients with ``A`` and its adjoint otherwise.

Two systems recur in the samplers (DiffPIR's data step, DDNM+'s range-space correction,
PGDM's guidance), each with a scalar ``μ > 0`` that changes at every diffusion step:

* the proximal step ``argmin_x ‖y − A x‖² + μ ‖x − x_0‖²``, i.e. ``x = x_0 + δ`` with
  ``(AᵀA + μ I) δ = Aᵀ(y − A x_0)``  (:class:`RegularizedSolver`);
* the weighted residual ``w = (A Aᵀ + μ I)⁻¹ r`` in observation space (:class:`GramSolver`).

With an SVD ``A = U diag(s) Vᵀ`` both have closed forms (``s_i / (s_i² + μ)`` per singular
direction). Without one (the reflect-padded blurs) they are solved by conjugate gradients
(CG) on the symmetric positive-definite system, each sample on its own, **warm-started** from
the previous call's solution (the systems change slowly from one diffusion step to the next),
until ``‖b − M δ‖ ≤ rtol ‖b‖`` (default ``rtol = 1e-4``) or ``max_iter`` iterations (default
100). The smallest ``μ`` (noisiest steps, where ``AᵀA + μI`` is nearly singular) may stop at
the cap; the iteration count of the last solve is kept in ``last_iterations``.

The pseudo-inverse ``A⁺ y`` of an operator without an SVD (the reflect-padded blurs'
``A_pinv``) is :func:`cgls`: conjugate gradients on the normal equations, started from 0.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from .base import has_svd, svd_regularized_solve

__all__ = [
    "conjugate_gradient",
    "cgls",
    "RegularizedSolver",
    "GramSolver",
    "CG_RTOL",
    "CG_MAX_ITER",
]

CG_RTOL = 1e-4
CG_MAX_ITER = 100


def _dot(a: Tensor, b: Tensor) -> Tensor:
    return (a * b).flatten(1).sum(1)


def _per_sample(v: Tensor, like: Tensor) -> Tensor:
    return v.reshape(-1, *([1] * (like.ndim - 1)))


@torch.no_grad()
def conjugate_gradient(
    apply: Callable[[Tensor], Tensor],
    b: Tensor,
    *,
    init: Tensor | None = None,
    rtol: float = CG_RTOL,
    max_iter: int = CG_MAX_ITER,
) -> tuple[Tensor, int]:
    """Solve ``M x = b`` for a symmetric positive-definite ``M`` (given by ``apply``), batched.

    Each batch item stops on its own once ``‖b − M x‖ ≤ rtol ‖b‖``. ``init`` is the starting
    point (zeros by default). Returns the solution and the number of iterations run.
    """
    x = torch.zeros_like(b) if init is None else init.clone()
    residual = b - apply(x) if init is not None else b.clone()
    direction = residual.clone()
    gamma = _dot(residual, residual)
    target = rtol * _dot(b, b).sqrt()
    active = gamma.sqrt() > target
    iterations = 0
    while bool(active.any()) and iterations < max_iter:
        iterations += 1
        q = apply(direction)
        curvature = _dot(direction, q)
        ok = active & (curvature > 0)
        alpha = torch.where(ok, gamma / torch.where(ok, curvature, 1.0), 0.0)
        x = x + _per_sample(alpha, x) * direction
        residual = residual - _per_sample(alpha, residual) * q
        gamma_new = _dot(residual, residual)
        active = ok & (gamma_new.sqrt() > target)
        beta = torch.where(active, gamma_new / torch.where(active, gamma, 1.0), 0.0)
        direction = residual + _per_sample(beta, residual) * direction
        gamma = gamma_new
    return x, iterations


@torch.no_grad()
def cgls(
    apply_A: Callable[[Tensor], Tensor],
    apply_A_adjoint: Callable[[Tensor], Tensor],
    y: Tensor,
    *,
    rtol: float = 1e-6,
    max_iter: int = 500,
) -> Tensor:
    """Minimum-norm least-squares solution of ``A x = y`` by CGLS, batched, started from 0.

    Conjugate gradients on ``AᵀA x = Aᵀ y`` in the numerically stable CGLS form. Each batch
    item stops on its own when ``‖y − A x‖ ≤ rtol ‖y‖`` or ``‖Aᵀ(y − A x)‖ ≤ rtol ‖Aᵀ y‖``.
    Not differentiable (runs without autograd).
    """

    def sq_norm(v: Tensor) -> Tensor:
        return v.flatten(1).pow(2).sum(1)

    residual = y.clone()
    s = apply_A_adjoint(residual)
    x = torch.zeros_like(s)
    direction = s.clone()
    gamma = sq_norm(s)
    y_norm, s0_norm = sq_norm(y).sqrt(), gamma.sqrt()
    active = (y_norm > 0) & (s0_norm > 0)
    for _ in range(int(max_iter)):
        if not bool(active.any()):
            break
        q = apply_A(direction)
        delta = sq_norm(q)
        step_ok = active & (delta > 0)
        alpha = torch.where(step_ok, gamma / torch.where(step_ok, delta, 1.0), 0.0)
        x = x + _per_sample(alpha, x) * direction
        residual = residual - _per_sample(alpha, residual) * q
        s = apply_A_adjoint(residual)
        gamma_new = sq_norm(s)
        done = (sq_norm(residual).sqrt() <= rtol * y_norm) | (gamma_new.sqrt() <= rtol * s0_norm)
        active = active & step_ok & ~done
        beta = torch.where(active, gamma_new / torch.where(active, gamma, 1.0), 0.0)
        direction = s + _per_sample(beta, s) * direction
        gamma = gamma_new
    return x


class RegularizedSolver:
    """``x_0 ↦ argmin_x ‖y − A x‖² + μ ‖x − x_0‖²`` for a fixed observation ``y``.

    Uses the SVD when ``operator`` has one (exact), conjugate gradients with ``A`` and
    ``A_adjoint`` otherwise, warm-started from the previous correction δ = x − x_0.

    Args:
        operator: a linear operator (``A``, ``A_adjoint``; optionally the SVD interface).
        y: the observation.
        rtol, max_iter: CG stopping rule (ignored with an SVD).
        use_svd: set False to use CG even when an SVD exists (the tests compare the two).
    """

    def __init__(
        self,
        operator,
        y: Tensor,
        *,
        rtol: float = CG_RTOL,
        max_iter: int = CG_MAX_ITER,
        use_svd: bool = True,
    ) -> None:
        if not getattr(operator, "linear", False):
            raise ValueError(
                f"a regularised solve needs a linear operator; {getattr(operator, 'name', operator)!r} is nonlinear"
            )
        self.operator, self.y = operator, y
        self.svd = use_svd and has_svd(operator)
        self.rtol, self.max_iter = rtol, max_iter
        self._delta: Tensor | None = None
        self.last_iterations = 0

    def __call__(self, x0: Tensor, mu: float, y: Tensor | None = None) -> Tensor:
        """The solution for this ``x0`` and ``μ`` (and ``y`` instead of the fixed one, if given)."""
        if not mu > 0:
            raise ValueError(f"the regularisation μ must be positive, got {mu}")
        op, y = self.operator, self.y if y is None else y
        if self.svd:
            return svd_regularized_solve(op, x0, y, mu)
        rhs = op.A_adjoint(y.to(x0) - op.A(x0))
        init = self._delta if self._delta is not None and self._delta.shape == x0.shape else None
        delta, self.last_iterations = conjugate_gradient(
            lambda v: op.A_adjoint(op.A(v)) + mu * v,
            rhs,
            init=init,
            rtol=self.rtol,
            max_iter=self.max_iter,
        )
        self._delta = delta
        return x0 + delta


class GramSolver:
    """``r ↦ (A Aᵀ + μ I)⁻¹ r`` in observation space by CG, warm-started from the previous
    solution (PGDM's guidance for a linear operator without an SVD)."""

    def __init__(self, operator, *, rtol: float = CG_RTOL, max_iter: int = CG_MAX_ITER) -> None:
        self.operator = operator
        self.rtol, self.max_iter = rtol, max_iter
        self._w: Tensor | None = None
        self.last_iterations = 0

    def __call__(self, r: Tensor, mu: float) -> Tensor:
        op = self.operator
        init = self._w if self._w is not None and self._w.shape == r.shape else None
        w, self.last_iterations = conjugate_gradient(
            lambda v: op.A(op.A_adjoint(v)) + mu * v,
            r,
            init=init,
            rtol=self.rtol,
            max_iter=self.max_iter,
        )
        self._w = w
        return w
