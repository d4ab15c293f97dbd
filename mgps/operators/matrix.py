"""Dense matrix operators: A x for an explicit (m, n) matrix, with exact adjoint, SVD and A⁺.

Used by the Gaussian-mixture benchmark (A with i.i.d. N(0, 1) entries, docs/algorithms.md §7) and for
any small linear problem a user writes down as a matrix.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ..registry import OPERATORS, Param
from .base import SVDOperator

__all__ = ["MatrixOperator", "gaussian_matrix"]


class MatrixOperator(SVDOperator):
    """``A(x) = M · vec(x)`` for a dense matrix ``M`` of shape ``(m, n)``.

    Args:
        matrix: ``(m, n)`` tensor.
        x_shape: shape of one input (default ``(n,)``); inputs are flattened.
        name: label used in messages.
    """

    def __init__(
        self, matrix: Tensor, x_shape: tuple[int, ...] | None = None, name: str = "matrix"
    ) -> None:
        matrix = torch.as_tensor(matrix)
        if matrix.ndim != 2:
            raise ValueError(f"matrix must be 2-D, got shape {tuple(matrix.shape)}")
        if not torch.isfinite(matrix).all():
            raise ValueError("matrix contains NaN or inf")
        self.matrix = matrix
        self.x_shape = tuple(x_shape) if x_shape is not None else (matrix.shape[1],)
        if math.prod(self.x_shape) != matrix.shape[1]:
            raise ValueError(f"x_shape {self.x_shape} does not have {matrix.shape[1]} entries")
        self.name = name
        self._svd: tuple[Tensor, Tensor, Tensor] | None = None
        self._cache: dict = {}

    @property
    def y_dim(self) -> int:
        return self.matrix.shape[0]

    def _m(self, like: Tensor) -> Tensor:
        key = ("m", like.dtype, like.device)
        if key not in self._cache:
            self._cache[key] = self.matrix.to(dtype=like.dtype, device=like.device)
        return self._cache[key]

    def _check(self, x: Tensor) -> Tensor:
        if tuple(x.shape[1:]) != self.x_shape:
            raise ValueError(
                f"{self.name}: expected inputs of shape (B, {', '.join(map(str, self.x_shape))}), got {tuple(x.shape)}"
            )
        return x.flatten(1)

    def A(self, x: Tensor) -> Tensor:
        return self._check(x) @ self._m(x).T

    def A_adjoint(self, y: Tensor) -> Tensor:
        return (y.flatten(1) @ self._m(y)).reshape(-1, *self.x_shape)

    # -- SVD, computed once in float64
    def _factors(self, like: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        if self._svd is None:
            U, S, Vh = torch.linalg.svd(self.matrix.to(torch.float64), full_matrices=True)
            self._svd = (U, S, Vh.T.contiguous())
        key = ("svd", like.dtype, like.device)
        if key not in self._cache:
            self._cache[key] = tuple(f.to(dtype=like.dtype, device=like.device) for f in self._svd)
        return self._cache[key]

    def singular_values(self) -> Tensor:
        return self._factors(self.matrix)[1]

    def V(self, coeffs: Tensor) -> Tensor:
        return (coeffs @ self._factors(coeffs)[2].T).reshape(-1, *self.x_shape)

    def V_adjoint(self, x: Tensor) -> Tensor:
        return self._check(x) @ self._factors(x)[2]

    def V_r(self, coeffs_r: Tensor) -> Tensor:
        V = self._factors(coeffs_r)[2]
        return (coeffs_r @ V[:, : coeffs_r.shape[1]].T).reshape(-1, *self.x_shape)

    def V_r_adjoint(self, x: Tensor) -> Tensor:
        V = self._factors(x)[2]
        return self._check(x) @ V[:, : self.singular_values().numel()]

    def U(self, coeffs: Tensor) -> Tensor:
        return coeffs @ self._factors(coeffs)[0].T

    def U_adjoint(self, y: Tensor) -> Tensor:
        return y.flatten(1) @ self._factors(y)[0]


@OPERATORS.register(
    "gaussian_matrix",
    label="Random Gaussian matrix",
    params=(
        Param("rows", low=1, high=100_000, step=1, help="number of measurements d_y"),
        Param("seed", low=0, high=2**31 - 1, step=1, help="seed of the matrix entries"),
    ),
    tags={"any-shape"},
    reference="Moufad et al. 2025, §4.1 (A with i.i.d. N(0, 1) entries)",
)
def gaussian_matrix(shape: tuple[int, ...], *, rows: int = 1, seed: int = 0) -> MatrixOperator:
    """A random ``(rows, prod(shape))`` matrix with i.i.d. N(0, 1) entries (the GMM benchmark's A)."""
    if rows < 1:
        raise ValueError(f"rows must be at least 1, got {rows}")
    n = math.prod(shape)
    generator = torch.Generator().manual_seed(int(seed))
    matrix = torch.randn(rows, n, generator=generator, dtype=torch.float64)
    return MatrixOperator(matrix, tuple(shape), name="gaussian_matrix")
