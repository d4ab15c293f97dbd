"""Selection operators: keep the entries of a signal where a boolean mask is true.

``y = x.flatten(1)[:, observed]`` for a mask of any shape (images, ECG windows). The SVD is
trivial (DDRM's inpainting H-function): ``V`` is the permutation listing the observed entries
first, ``s = 1`` and ``U = I``, so ``Aᵀ y = A⁺ y`` puts y back at the observed entries with
zeros elsewhere. Subclasses validate their masks (with messages in their own terms) and
check their inputs; the maths lives here once.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .base import SVDOperator

__all__ = ["SelectionOperator"]


class SelectionOperator(SVDOperator):
    """Keep the entries where ``mask`` (bool, shape ``x_shape``) is true.

    Attributes:
        mask: the bool mask (CPU).
        observed_index, missing_index: flat indices of the two parts.
        permutation: V's ordering (observed first); ``inverse_permutation`` undoes it.
    """

    linear = True
    has_svd = True

    def _set_mask(self, mask: Tensor) -> None:
        mask = torch.as_tensor(mask).to(torch.bool).cpu()
        self.x_shape = tuple(mask.shape)
        self.mask = mask
        flat = mask.flatten()
        self.observed_index = torch.nonzero(flat).flatten()
        self.missing_index = torch.nonzero(~flat).flatten()
        self.permutation = torch.cat([self.observed_index, self.missing_index])
        self.inverse_permutation = torch.argsort(self.permutation)
        self._ones = torch.ones(self.observed_index.numel(), dtype=torch.float64)
        self._index_cache: dict[tuple, Tensor] = {}

    @property
    def y_dim(self) -> int:
        return int(self.observed_index.numel())

    def check_input(self, x: Tensor) -> Tensor:
        """Subclasses raise a clear error for inputs of the wrong shape."""
        return x

    def _index(self, key: str, like: Tensor) -> Tensor:
        cache_key = (key, like.device)
        if cache_key not in self._index_cache:
            self._index_cache[cache_key] = getattr(self, key).to(like.device)
        return self._index_cache[cache_key]

    def _scatter(self, y: Tensor, fill: float) -> Tensor:
        y = y.reshape(y.shape[0], -1)
        if y.shape[1] != self.y_dim:
            raise ValueError(
                f"{self.name}: expected observations of shape (B, {self.y_dim}), got {tuple(y.shape)}"
            )
        out = y.new_full((y.shape[0], self.x_numel), fill)
        out = out.index_copy(1, self._index("observed_index", y), y)
        return out.reshape(-1, *self.x_shape)

    # -- the operator
    def A(self, x: Tensor) -> Tensor:
        """``(B, *x_shape) -> (B, n)``: the observed entries."""
        return self.check_input(x).flatten(1).index_select(1, self._index("observed_index", x))

    def A_adjoint(self, y: Tensor) -> Tensor:
        """``(B, n) -> (B, *x_shape)``: y at the observed entries, zeros elsewhere."""
        return self._scatter(y, 0.0)

    def A_pinv(self, y: Tensor) -> Tensor:
        """Exact pseudo-inverse, equal to the adjoint (``A Aᵀ = I``)."""
        return self._scatter(y, 0.0)

    def missing_mask(self) -> Tensor:
        """bool ``x_shape``, True where the entry is missing."""
        return ~self.mask

    # -- SVD: V = permutation (observed first), s = 1, U = I
    def singular_values(self) -> Tensor:
        return self._ones

    def V(self, coeffs: Tensor) -> Tensor:
        return coeffs.index_select(1, self._index("inverse_permutation", coeffs)).reshape(
            -1, *self.x_shape
        )

    def V_adjoint(self, x: Tensor) -> Tensor:
        return self.check_input(x).flatten(1).index_select(1, self._index("permutation", x))

    def V_r(self, coeffs_r: Tensor) -> Tensor:
        return self._scatter(coeffs_r, 0.0)

    def V_r_adjoint(self, x: Tensor) -> Tensor:
        return self.A(x)

    def U(self, coeffs: Tensor) -> Tensor:
        return coeffs.reshape(coeffs.shape[0], -1)

    def U_adjoint(self, y: Tensor) -> Tensor:
        return y.reshape(y.shape[0], -1)

    def U_r_adjoint(self, y: Tensor) -> Tensor:
        return y.reshape(y.shape[0], -1)
