"""Super-resolution by block averaging (``sr4``, ``sr16``), with its exact SVD.

The paper's SR tasks (``docs/algorithms.md`` §5, DDRM's ``SuperResolution`` H-function) average
each ``r × r`` block: ``y[c, i, j] = (1/r²) Σ_{a,b < r} x[c, r·i + a, r·j + b]``, giving an
``(H/r) × (W/r)`` image (not bicubic). Write a block as a vector ``x_b ∈ R^(r²)`` and
``q = 1/r · 1`` (a unit vector); then ``y_b = (1/r²) Σ x_b = (1/r) ⟨x_b, q⟩``, so in each block
A has one singular value ``1/r`` with right singular vector ``q``. The SVD used here:

* ``V``: per block, the Householder reflection ``Q = I − 2 w wᵀ / ‖w‖²`` with ``w = e₁ − q``,
  which is orthogonal, symmetric and has ``Q e₁ = q``; the first spectral coefficient of a
  block is ``⟨x_b, q⟩ = r · mean(x_b)``. The spectral vector lists the first coefficient of
  every block (in ``(c, i, j)`` order), then the ``r² − 1`` others of every block;
* ``s = 1/r`` repeated ``C·(H/r)·(W/r)`` times; ``U = I`` on ``y`` (flattened).

Consequences (all exact, and overridden with direct formulas): ``Aᵀ y`` spreads ``y/r²``
over each block; ``A⁺ y = V S⁺ Uᵀ y`` is nearest-neighbour upsampling (``A A⁺ = I``).
The image size must be divisible by the factor.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from ..registry import OPERATORS
from .base import SVDOperator
from .image_base import ImageOperator, describe_shape, image_shape

__all__ = ["BlockAverage", "sr4", "sr16"]


def _nearest_multiples(size: int, factor: int) -> str:
    low = max(factor, size // factor * factor)
    high = (size // factor + 1) * factor
    return f"{low} or {high}" if low != high else str(low)


class BlockAverage(SVDOperator, ImageOperator):
    """Mean over ``factor × factor`` blocks, channel by channel.

    Args:
        x_shape: ``(C, H, W)``, with ``H`` and ``W`` divisible by ``factor``.
        factor: block size ``r ≥ 1``.
        name: the registry key, used in messages.
    """

    linear = True
    has_svd = True

    def __init__(self, x_shape: tuple[int, int, int], factor: int, name: str = "sr") -> None:
        ImageOperator.__init__(self, name, x_shape)
        factor = int(factor)
        if factor < 1:
            raise ValueError(f"{name}: the factor must be a positive integer, got {factor}")
        c, h, w = self.x_shape
        if h % factor or w % factor:
            raise ValueError(
                f"{name}: image size {h}×{w} is not divisible by the factor {factor}; "
                f"use sizes that are multiples of {factor} (height {_nearest_multiples(h, factor)}, "
                f"width {_nearest_multiples(w, factor)})"
            )
        self.factor = factor
        self.y_shape = (c, h // factor, w // factor)
        self._n_blocks = math.prod(self.y_shape)
        self._singular_values = torch.full((self._n_blocks,), 1.0 / factor, dtype=torch.float64)
        block = factor * factor
        q = torch.full((block,), 1.0 / factor, dtype=torch.float64)
        w_vec = -q
        w_vec[0] += 1.0
        norm2 = float(w_vec @ w_vec)
        # Householder vector scaled so that Q v = v − w (wᵀ v) (or Q = I when q = e₁, r = 1).
        self._householder = w_vec * math.sqrt(2.0 / norm2) if norm2 > 0 else torch.zeros(block)

    @property
    def y_dim(self) -> int:
        return self._n_blocks

    # -- direct forms
    def A(self, x: Tensor) -> Tensor:
        """``(B, C, H, W) -> (B, C, H/r, W/r)``: block means."""
        x = self.check_input(x)
        return F.avg_pool2d(x, self.factor) if self.factor > 1 else x

    def _upsample(self, y: Tensor) -> Tensor:
        y = y.reshape(y.shape[0], *self.y_shape)
        r = self.factor
        return y.repeat_interleave(r, dim=2).repeat_interleave(r, dim=3)

    def A_adjoint(self, y: Tensor) -> Tensor:
        """``Aᵀ y``: each block gets ``y / r²``."""
        return self._upsample(y) / self.factor**2

    def A_pinv(self, y: Tensor) -> Tensor:
        """``A⁺ y``: nearest-neighbour upsampling (exact: ``V S⁻¹ Uᵀ`` with ``s = 1/r``)."""
        return self._upsample(y)

    # -- SVD
    def singular_values(self) -> Tensor:
        return self._singular_values

    def _blocks(self, x: Tensor) -> Tensor:
        """``(B, C, H, W) -> (B, C, H/r, W/r, r²)``."""
        c, h, w = self.y_shape
        r = self.factor
        return x.reshape(-1, c, h, r, w, r).permute(0, 1, 2, 4, 3, 5).reshape(-1, c, h, w, r * r)

    def _unblocks(self, blocks: Tensor) -> Tensor:
        c, h, w = self.y_shape
        r = self.factor
        return (
            blocks.reshape(-1, c, h, w, r, r).permute(0, 1, 2, 4, 3, 5).reshape(-1, *self.x_shape)
        )

    def _reflect(self, v: Tensor) -> Tensor:
        """Apply the per-block Householder reflection ``Q`` (its own inverse) on the last dim."""
        w_vec = self.constant("householder", self._householder, v)
        return v - (v @ w_vec).unsqueeze(-1) * w_vec

    def V_adjoint(self, x: Tensor) -> Tensor:
        coeffs = self._reflect(self._blocks(self.check_input(x)))
        batch = coeffs.shape[0]
        return torch.cat([coeffs[..., 0].reshape(batch, -1), coeffs[..., 1:].reshape(batch, -1)], 1)

    def V(self, coeffs: Tensor) -> Tensor:
        c, h, w = self.y_shape
        batch = coeffs.shape[0]
        first = coeffs[:, : self._n_blocks].reshape(batch, c, h, w, 1)
        rest = coeffs[:, self._n_blocks :].reshape(batch, c, h, w, self.factor**2 - 1)
        return self._unblocks(self._reflect(torch.cat([first, rest], -1)))

    def V_r(self, coeffs_r: Tensor) -> Tensor:
        """Σ c_i v_i over the first vectors: each block gets ``c / r`` (the vector ``q``)."""
        return self._upsample(coeffs_r) / self.factor

    def V_r_adjoint(self, x: Tensor) -> Tensor:
        return self.A(x).reshape(x.shape[0], -1) * self.factor

    def U(self, coeffs: Tensor) -> Tensor:
        return coeffs.reshape(coeffs.shape[0], *self.y_shape)

    def U_adjoint(self, y: Tensor) -> Tensor:
        return y.reshape(y.shape[0], -1)

    def U_r_adjoint(self, y: Tensor) -> Tensor:
        return y.reshape(y.shape[0], -1)


def _check_factor(name: str, shape: tuple[int, int, int], factor: int) -> tuple[int, int, int]:
    shape = image_shape(name, shape)
    if shape[1] % factor or shape[2] % factor:
        h, w = shape[1:]
        raise ValueError(
            f"{name}: image size {describe_shape(shape[1:])} is not divisible by {factor}; "
            f"{name} needs height and width that are multiples of {factor} "
            f"(height {_nearest_multiples(h, factor)}, width {_nearest_multiples(w, factor)})"
        )
    return shape


@OPERATORS.register(
    "sr4",
    label="Super-resolution ×4",
    tags={"image"},
    reference="Moufad et al. 2025, §5 (DDRM SuperResolution: 4×4 block averaging)",
)
def sr4(shape: tuple[int, int, int]) -> BlockAverage:
    """Average 4×4 blocks (256 → 64); the image size must be divisible by 4."""
    return BlockAverage(_check_factor("sr4", shape, 4), 4, name="sr4")


sr4.test_shapes = ((3, 32, 32), (1, 28, 28), (3, 36, 20))  # type: ignore[attr-defined]


@OPERATORS.register(
    "sr16",
    label="Super-resolution ×16",
    tags={"image"},
    reference="Moufad et al. 2025, §5 (DDRM SuperResolution: 16×16 block averaging)",
)
def sr16(shape: tuple[int, int, int]) -> BlockAverage:
    """Average 16×16 blocks (256 → 16); the image size must be divisible by 16."""
    return BlockAverage(_check_factor("sr16", shape, 16), 16, name="sr16")


sr16.test_shapes = ((3, 32, 32), (1, 32, 48))  # type: ignore[attr-defined]
