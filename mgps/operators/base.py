"""Operator building blocks: the SVD interface, helpers derived from it, and ``measure``.

A linear operator may expose a singular value decomposition A = U diag(s) Vᵀ in the style of
DDRM's ``H_functions``: ``V_adjoint(x)`` maps ``(B, *x_shape)`` to ``(B, n)`` spectral
coefficients whose first ``r`` entries pair with ``singular_values()`` (shape ``(r,)``), and
``U_adjoint(y)`` maps ``(B, *y_shape)`` to ``(B, m)``. PGDM, DDNM and DiffPIR need this; the
closed forms below (pseudo-inverse, the proximal solve) are written once here.

The samplers only ever need the first ``r`` right singular vectors ("thin" SVD): ``V_r`` and
``V_r_adjoint`` act on those, and anything orthogonal to them is the null space ``x − V_r V_rᵀ x``.
The defaults go through the full ``V``; operators with a cheaper thin form override them (a
dense ``(m, n)`` matrix with m ≪ n, for instance).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ..schedules import randn_like
from ..types import InverseProblem

__all__ = [
    "SVDOperator",
    "measure",
    "has_svd",
    "dense_matrix",
    "svd_pinv",
    "svd_regularized_solve",
]


def has_svd(operator: object) -> bool:
    """Whether ``operator`` is linear and exposes the SVD interface."""
    return bool(getattr(operator, "linear", False)) and bool(getattr(operator, "has_svd", False))


class SVDOperator:
    """Base class for a linear operator defined by its SVD.

    Subclasses set ``x_shape`` and implement ``singular_values``, ``V``, ``V_adjoint``, ``U``
    and ``U_adjoint``; ``A``, ``A_adjoint`` and ``A_pinv`` follow. Subclasses with a faster
    direct ``A`` override it (the tests check it agrees with the SVD).
    """

    linear = True
    has_svd = True
    name = "svd"
    x_shape: tuple[int, ...]

    # -- to implement
    def singular_values(self) -> Tensor:  # (r,)
        raise NotImplementedError

    def V(self, coeffs: Tensor) -> Tensor:  # (B, n) -> (B, *x_shape)
        raise NotImplementedError

    def V_adjoint(self, x: Tensor) -> Tensor:  # (B, *x_shape) -> (B, n)
        raise NotImplementedError

    def U(self, coeffs: Tensor) -> Tensor:  # (B, m) -> (B, *y_shape)
        raise NotImplementedError

    def U_adjoint(self, y: Tensor) -> Tensor:  # (B, *y_shape) -> (B, m)
        raise NotImplementedError

    @property
    def y_dim(self) -> int:
        raise NotImplementedError

    @property
    def x_numel(self) -> int:
        return math.prod(self.x_shape)

    # -- thin SVD (override when cheaper)
    def V_r(self, coeffs_r: Tensor) -> Tensor:
        """``(B, r) -> (B, *x_shape)``: Σ_{i ≤ r} c_i v_i."""
        c = coeffs_r.new_zeros(coeffs_r.shape[0], self.x_numel)
        c[:, : coeffs_r.shape[1]] = coeffs_r
        return self.V(c)

    def V_r_adjoint(self, x: Tensor) -> Tensor:
        """``(B, *x_shape) -> (B, r)``: the coefficients paired with the singular values."""
        return self.V_adjoint(x)[:, : self.singular_values().numel()]

    def U_r_adjoint(self, y: Tensor) -> Tensor:
        """``(B, *y_shape) -> (B, r)``."""
        return self.U_adjoint(y)[:, : self.singular_values().numel()]

    # -- derived
    def _spectral_to_y(self, c: Tensor) -> Tensor:
        s = self.singular_values().to(c)
        r = s.numel()
        out = c.new_zeros(c.shape[0], self.y_dim)
        out[:, :r] = s * c[:, :r]
        return self.U(out)

    def A(self, x: Tensor) -> Tensor:
        """A x = U diag(s) Vᵀ x."""
        return self._spectral_to_y(self.V_adjoint(x))

    def A_adjoint(self, y: Tensor) -> Tensor:
        """Aᵀ y = V diag(s) Uᵀ y."""
        s = self.singular_values().to(y)
        r = s.numel()
        return self.V_r(s * self.U_adjoint(y)[:, :r])

    def A_pinv(self, y: Tensor) -> Tensor:
        """A⁺ y = V diag(1/s) Uᵀ y (zero singular values are skipped)."""
        return svd_pinv(self, y)


def _nonzero(s: Tensor) -> Tensor:
    return s > (s.abs().max() * 1e-10 if s.numel() else 0)


def svd_pinv(op: SVDOperator, y: Tensor) -> Tensor:
    """A⁺ y = V S⁺ Uᵀ y."""
    s = op.singular_values().to(y)
    keep = _nonzero(s)
    u = op.U_r_adjoint(y)
    return op.V_r(
        torch.where(keep, u / torch.where(keep, s, torch.ones_like(s)), torch.zeros_like(u))
    )


def svd_regularized_solve(op: SVDOperator, x0: Tensor, y: Tensor, rho: float) -> Tensor:
    """argmin_x ‖y − A x‖² + ρ ‖x − x0‖²  =  (ρ I + AᵀA)⁻¹ (ρ x0 + Aᵀ y), via the SVD.

    In spectral coordinates, c_i ← (ρ c_i + s_i ȳ_i) / (ρ + s_i²) for i ≤ r, unchanged beyond.
    """
    s = op.singular_values().to(x0)
    c = op.V_r_adjoint(x0)
    y_bar = op.U_r_adjoint(y.to(x0))
    return x0 + op.V_r((rho * c + s * y_bar) / (rho + s**2) - c)


def measure(
    x: Tensor, operator: object, sigma_y: float, generator: torch.Generator | None = None
) -> InverseProblem:
    """Observe ``x`` through ``operator`` with Gaussian noise: y = A(x) + σ_y ε.

    Noise is drawn from ``generator`` here, explicitly (never hidden in the operator).
    """
    with torch.no_grad():
        clean = operator.A(x)
        y = clean + float(sigma_y) * randn_like(clean, generator)
    return InverseProblem(operator=operator, y=y, sigma_y=float(sigma_y))


@torch.no_grad()
def dense_matrix(
    operator: object,
    x_shape: tuple[int, ...],
    *,
    dtype: torch.dtype = torch.float64,
    batch: int = 256,
) -> Tensor:
    """Materialise a linear operator as an ``(m, n)`` matrix by applying it to basis vectors."""
    if not getattr(operator, "linear", False):
        raise ValueError(
            f"operator {getattr(operator, 'name', operator)!r} is nonlinear; it has no matrix"
        )
    matrix = getattr(operator, "matrix", None)
    if matrix is not None:
        return matrix.to(dtype)
    n = int(torch.tensor(x_shape).prod())
    columns = []
    for start in range(0, n, batch):
        stop = min(n, start + batch)
        basis = torch.zeros(stop - start, n, dtype=dtype)
        basis[torch.arange(stop - start), torch.arange(start, stop)] = 1.0
        columns.append(operator.A(basis.reshape(stop - start, *x_shape)).reshape(stop - start, -1))
    return torch.cat(columns, 0).T.contiguous()
