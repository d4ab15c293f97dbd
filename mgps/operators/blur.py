"""Blur operators: Gaussian and motion blur (reflect padding), and an SVD-friendly Gaussian.

**Reflect-padded blur** (``gaussian_blur``, ``motion_blur``; the DPS set-up of the paper,
``docs/algorithms.md`` §5): each channel is padded by reflection (``ReflectionPad2d``) and correlated
with a ``k × k`` kernel (``conv2d``, i.e. cross-correlation, as DPS's ``Conv2d`` layer; the
Gaussian is symmetric so the two agree), so the output has the size of the input:

    A = C ∘ P,   P = reflect padding (H, W) → (H + 2p, W + 2p),   C = "valid" correlation.

Its **true adjoint** is ``Aᵀ = Pᵀ ∘ Cᵀ``: ``Cᵀ`` is a full convolution (``conv_transpose2d``)
and ``Pᵀ`` folds the padded border back onto the pixels it was copied from (a scatter-add
with the reflection index map). These operators have no cheap SVD, so ``A⁺`` is computed
iteratively: **CGLS** (:func:`mgps.operators.solve.cgls`: conjugate gradients on the normal
equations ``AᵀA x = Aᵀ y``, started from 0), which converges to the minimum-norm least-squares
solution ``A⁺ y``. It
stops when ``‖y − A x‖ ≤ rtol ‖y‖`` or ``‖Aᵀ(y − A x)‖ ≤ rtol ‖Aᵀ y‖`` (defaults ``rtol =
1e-6``, at most 500 iterations), so ``A A⁺ A ≈ A`` to that tolerance. Blur is severely
ill-conditioned: for a noisy ``y`` the exact ``A⁺ y`` amplifies the noise, and the iteration cap
then acts as a regulariser.

**Kernels.** The Gaussian kernel is that of the paper (61 × 61, std 3 at 256 × 256: a delta
filtered by ``scipy.ndimage.gaussian_filter``, i.e. a separable sampled Gaussian truncated at
4 std and normalised). The motion kernel (61 × 61, intensity 0.5) is a random camera-shake
trajectory drawn from a seed by :func:`motion_blur_kernel`, written in the spirit of
LeviBorodenko/motionblur (the generator DPS uses) but not the same code, so the kernels
differ from DPS's; seed 0 by default, so the kernel is fixed (the reference code also fixes
it). For images smaller than 256 both the kernel size and the std (or the trajectory) shrink
in proportion to ``min(H, W) / 256`` (kernel size kept odd and ≥ 3); larger images keep the
256 values. Only the non-zero part of a kernel is applied, which gives the same result with
less padding (a reflected pixel does not depend on how far the padding extends). The Gaussian
is applied as two 1-D passes; kernels larger than 15 × 15 (the motion kernel at 256) through
the FFT of the padded image (the valid part of a circular correlation, so still exact), and
smaller ones by ``conv2d``.

**SVD variant** (``gaussian_blur_svd``, what the SVD samplers use; DDRM's separable
``Deblurring`` H-function): ``A X = M_h X M_wᵀ`` per channel, with ``M`` the square 1-D
Toeplitz matrices of the 1-D Gaussian with **zero** padding (not reflect). The SVDs of the
1-D matrices give the SVD of A (singular values ``s_i s_j``, sorted). As DDRM does, 1-D
singular values below ``zero_threshold`` (default 3e-2) are set to 0, which defines the
operator (``A`` is applied with the thresholded 1-D matrices, so the SVD is exact); use
``zero_threshold=0`` for the plain zero-padded blur. The two blurs differ only near the
border: reflect padding keeps the image's brightness at the edges, zero padding darkens them.
(No circular/FFT variant is provided: its eigenvectors are complex.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ..registry import OPERATORS, Param
from .base import SVDOperator
from .image_base import ImageOperator, describe_shape, image_shape
from .solve import cgls

__all__ = [
    "ReflectBlur",
    "SeparableBlurSVD",
    "gaussian_kernel_1d",
    "motion_blur_kernel",
    "scaled_kernel_geometry",
    "gaussian_blur",
    "motion_blur",
    "gaussian_blur_svd",
]

REFERENCE_SIZE = 256
FFT_MIN_KERNEL_SIZE = 15 * 15  # kernels with more entries are applied by FFT


# --------------------------------------------------------------------------- kernels


def _round_half_up(value: float) -> int:
    return int(math.floor(value + 0.5))


def scaled_kernel_geometry(shape: Sequence[int], kernel_size: int, std: float) -> tuple[int, float]:
    """Kernel size and std for an image of ``shape``, from their values at 256 × 256.

    Both scale by ``min(1, min(H, W) / 256)``; the size is rounded to an odd integer ≥ 3.
    """
    scale = min(1.0, min(int(shape[-2]), int(shape[-1])) / REFERENCE_SIZE)
    size = max(3, _round_half_up(kernel_size * scale))
    if size % 2 == 0:
        size += 1
    return size, std * scale


def gaussian_kernel_1d(size: int, std: float) -> Tensor:
    """Normalised sampled Gaussian of odd length ``size``, truncated at 4 std (as scipy).

    ``torch.outer(g, g)`` equals ``scipy.ndimage.gaussian_filter`` applied to a centred delta
    of shape ``(size, size)`` with ``sigma=std`` (while ``int(4·std + 0.5) ≤ size // 2``).
    """
    if size < 1 or size % 2 == 0:
        raise ValueError(f"the kernel size must be a positive odd integer, got {size}")
    if not std > 0:
        raise ValueError(f"the Gaussian std must be positive, got {std}")
    centre = size // 2
    offsets = torch.arange(-centre, centre + 1, dtype=torch.float64)
    weights = torch.exp(-0.5 * (offsets / std) ** 2)
    weights[offsets.abs() > int(4.0 * std + 0.5)] = 0.0
    return weights / weights.sum()


def motion_blur_kernel(size: int, intensity: float = 0.5, seed: int = 0) -> Tensor:
    """A random camera-shake kernel ``(size, size)`` (float64, non-negative, sums to 1).

    The camera moves along a random path sampled at equal time steps: its heading follows a
    random walk whose spread grows with ``intensity`` (0: almost straight, 1: strongly curved,
    with occasional sudden jerks), and its speed varies, so slow parts of the path collect
    more light. The path is centred on its centre of mass (the blur does not shift the
    image), scaled to span up to ``0.5 + 0.4·intensity`` of the kernel's half-width, and
    splatted bilinearly onto the grid. The path lives in coordinates relative to the kernel
    size, so a seed gives the same shape at every size.

    Args:
        size: odd kernel size ≥ 3.
        intensity: irregularity and extent of the motion, in [0, 1].
        seed: seed of the path (``numpy.random.default_rng``; no global state is touched).
    """
    if size < 3 or size % 2 == 0:
        raise ValueError(f"motion_blur: the kernel size must be odd and at least 3, got {size}")
    if not 0.0 <= intensity <= 1.0:
        raise ValueError(f"motion_blur: intensity must lie in [0, 1], got {intensity}")
    rng = np.random.default_rng(int(seed))
    n_steps = 48
    turns = rng.normal(0.0, (0.05 + 0.45 * intensity) * np.pi / 4, n_steps)
    jerks = rng.uniform(size=n_steps) < 0.08 * intensity
    turns[jerks] += rng.normal(0.0, np.pi / 3, int(jerks.sum()))
    heading = rng.uniform(0.0, 2.0 * np.pi) + np.cumsum(turns)
    speed = rng.uniform(0.3, 1.0, n_steps)
    steps = speed * np.exp(1j * heading)
    vertices = np.concatenate([[0.0 + 0.0j], np.cumsum(steps)])
    # Equal exposure per time step: sample each segment uniformly with equal total weight.
    per_segment = 32
    fractions = (np.arange(per_segment) + 0.5) / per_segment
    points = (vertices[:-1, None] + (vertices[1:] - vertices[:-1])[:, None] * fractions).ravel()
    points = points - points.mean()
    radius = np.abs(points).max()
    half_width = (size - 1) / 2
    extent = (0.5 + 0.4 * intensity) * half_width
    if radius > 0:
        points = points * (extent / radius)
    cols, rows = points.real + half_width, points.imag + half_width
    kernel = np.zeros((size, size))
    r0, c0 = np.floor(rows).astype(int), np.floor(cols).astype(int)
    fr, fc = rows - r0, cols - c0
    for dr, wr in ((0, 1 - fr), (1, fr)):
        for dc, wc in ((0, 1 - fc), (1, fc)):
            np.add.at(
                kernel, (np.clip(r0 + dr, 0, size - 1), np.clip(c0 + dc, 0, size - 1)), wr * wc
            )
    return torch.from_numpy(kernel / kernel.sum())


def _support_radius(kernel: Tensor) -> tuple[int, int]:
    """Largest row and column distance from the centre of a non-zero kernel entry."""
    rows, cols = torch.nonzero(kernel, as_tuple=True)
    centre_r, centre_c = kernel.shape[0] // 2, kernel.shape[1] // 2
    return int((rows - centre_r).abs().max()), int((cols - centre_c).abs().max())


# --------------------------------------------------------------------------- reflect blur


def _reflect_index(size: int, pad: int) -> Tensor:
    """Source pixel of each padded position ``-pad .. size + pad - 1`` under reflect padding."""
    positions = torch.arange(-pad, size + pad)
    positions = torch.where(positions < 0, -positions, positions)
    return torch.where(positions >= size, 2 * (size - 1) - positions, positions)


class ReflectBlur(ImageOperator):
    """Depthwise correlation with ``kernel`` after reflect padding; same-size output.

    Args:
        x_shape: ``(C, H, W)``.
        kernel: ``(k, k)`` kernel (odd size), applied to every channel.
        separable: optional 1-D factors ``(g_rows, g_cols)`` with ``kernel = outer(g_rows,
            g_cols)``, applied as two 1-D passes (same result, faster).
        name: the registry key, used in messages.
        pinv_rtol: relative tolerance of the CGLS pseudo-inverse.
        pinv_max_iter: iteration cap of the CGLS pseudo-inverse.
    """

    linear = True
    has_svd = False

    def __init__(
        self,
        x_shape: tuple[int, int, int],
        kernel: Tensor,
        *,
        separable: tuple[Tensor, Tensor] | None = None,
        name: str = "blur",
        pinv_rtol: float = 1e-6,
        pinv_max_iter: int = 500,
    ) -> None:
        ImageOperator.__init__(self, name, x_shape)
        kernel = torch.as_tensor(kernel, dtype=torch.float64)
        if kernel.ndim != 2 or kernel.shape[0] % 2 == 0 or kernel.shape[1] % 2 == 0:
            raise ValueError(f"{name}: expected an odd-sized 2-D kernel, got {tuple(kernel.shape)}")
        if not bool(torch.isfinite(kernel).all()) or not bool(kernel.abs().sum() > 0):
            raise ValueError(f"{name}: the kernel must be finite and not all zero")
        self.kernel = kernel
        pad_h, pad_w = _support_radius(kernel)
        _, h, w = self.x_shape
        if pad_h >= h or pad_w >= w:
            raise ValueError(
                f"{name}: a {h}×{w} image is too small for this kernel (reflect padding needs "
                f"more than {pad_h} rows and {pad_w} columns); use images of at least "
                f"{pad_h + 1}×{pad_w + 1} pixels or a smaller kernel"
            )
        self.padding = (pad_h, pad_w)
        ch, cw = kernel.shape[0] // 2, kernel.shape[1] // 2
        if separable is not None:
            rows, cols = (torch.as_tensor(g, dtype=torch.float64) for g in separable)
            self._weights = [
                rows[ch - pad_h : ch + pad_h + 1].reshape(-1, 1),
                cols[cw - pad_w : cw + pad_w + 1].reshape(1, -1),
            ]
        else:
            self._weights = [kernel[ch - pad_h : ch + pad_h + 1, cw - pad_w : cw + pad_w + 1]]
        # Large non-separable kernels are applied through the FFT (exact up to rounding).
        self.use_fft = separable is None and self._weights[0].numel() > FFT_MIN_KERNEL_SIZE
        self._padded_size = (h + 2 * pad_h, w + 2 * pad_w)
        self._row_index = _reflect_index(h, pad_h)
        self._col_index = _reflect_index(w, pad_w)
        self.pinv_rtol = float(pinv_rtol)
        self.pinv_max_iter = int(pinv_max_iter)

    def _depthwise(self, index: int, like: Tensor) -> Tensor:
        weight = self.constant(f"weight{index}", self._weights[index], like)
        return weight.expand(self.x_shape[0], 1, *weight.shape)

    def _kernel_spectrum(self, like: Tensor) -> Tensor:
        """``rfft2`` of the kernel on the padded grid (cached per dtype and device)."""
        key = ("kernel_spectrum", like.dtype, like.device)
        if key not in self._constants:
            weight = self.constant("weight0", self._weights[0], like)
            self._constants[key] = torch.fft.rfft2(weight, s=self._padded_size)
        return self._constants[key]

    def _correlate(self, padded: Tensor) -> Tensor:
        """Valid correlation ``(B, C, H + 2p, W + 2p) -> (B, C, H, W)``: the map ``C``."""
        if self.use_fft:
            _, h, w = self.x_shape
            spectrum = torch.fft.rfft2(padded) * self._kernel_spectrum(padded).conj()
            return torch.fft.irfft2(spectrum, s=self._padded_size)[..., :h, :w]
        for index in range(len(self._weights)):
            padded = F.conv2d(padded, self._depthwise(index, padded), groups=self.x_shape[0])
        return padded

    def _correlate_adjoint(self, y: Tensor) -> Tensor:
        """``Cᵀ``: ``(B, C, H, W) -> (B, C, H + 2p, W + 2p)`` (a full convolution)."""
        if self.use_fft:
            _, h, w = self.x_shape
            rows, cols = self._padded_size
            spectrum = torch.fft.rfft2(F.pad(y, (0, cols - w, 0, rows - h)))
            return torch.fft.irfft2(spectrum * self._kernel_spectrum(y), s=self._padded_size)
        for index in reversed(range(len(self._weights))):
            # full convolution = correlation of the zero-padded input with the flipped kernel
            # (the same as conv_transpose2d, which is slow on CPUs)
            weight = self._depthwise(index, y)
            rows, cols = weight.shape[-2] - 1, weight.shape[-1] - 1
            y = F.conv2d(
                F.pad(y, (cols, cols, rows, rows)), weight.flip(-2, -1), groups=self.x_shape[0]
            )
        return y

    def A(self, x: Tensor) -> Tensor:
        """Reflect-pad, then correlate each channel with the kernel: ``(B, C, H, W)`` out."""
        x = self.check_input(x)
        pad_h, pad_w = self.padding
        padded = F.pad(x, (pad_w, pad_w, pad_h, pad_h), mode="reflect") if pad_h or pad_w else x
        return self._correlate(padded)

    def A_adjoint(self, y: Tensor) -> Tensor:
        """``Pᵀ Cᵀ y``: transposed correlation, then the padded border folded back."""
        out = self._correlate_adjoint(self.check_input(y))
        c, h, w = self.x_shape
        rows = self.constant("row_index", self._row_index, y)
        cols = self.constant("col_index", self._col_index, y)
        out = out.new_zeros(out.shape[0], c, h, out.shape[3]).index_add(2, rows, out)
        return out.new_zeros(out.shape[0], c, h, w).index_add(3, cols, out)

    def A_pinv(self, y: Tensor) -> Tensor:
        """Minimum-norm least-squares solution by CGLS (see the module docstring)."""
        return cgls(self.A, self.A_adjoint, y, rtol=self.pinv_rtol, max_iter=self.pinv_max_iter)


def _blur_shape(name: str, shape: Sequence[int], kernel_size: int) -> tuple[int, int, int]:
    shape = image_shape(name, shape)
    if int(kernel_size) != kernel_size or kernel_size < 3 or kernel_size % 2 == 0:
        raise ValueError(f"{name}: kernel_size must be an odd integer ≥ 3, got {kernel_size}")
    return shape


@OPERATORS.register(
    "gaussian_blur",
    label="Gaussian blur",
    params=(
        Param("kernel_size", low=3, high=255, step=2, help="kernel size at 256×256 (odd)"),
        Param("std", low=0.1, high=50.0, step=0.1, help="std in pixels at 256×256"),
    ),
    tags={"image"},
    reference="Moufad et al. 2025, §5; DPS (Chung et al. 2023): 61×61 Gaussian, std 3, reflect padding",
)
def gaussian_blur(
    shape: tuple[int, int, int],
    *,
    kernel_size: int = 61,
    std: float = 3.0,
    pinv_rtol: float = 1e-6,
    pinv_max_iter: int = 500,
) -> ReflectBlur:
    """Gaussian blur with reflect padding (kernel size and std scale with small images)."""
    shape = _blur_shape("gaussian_blur", shape, kernel_size)
    if not std > 0:
        raise ValueError(f"gaussian_blur: std must be positive, got {std}")
    size, scaled_std = scaled_kernel_geometry(shape, int(kernel_size), float(std))
    g = gaussian_kernel_1d(size, scaled_std)
    return ReflectBlur(
        shape,
        torch.outer(g, g),
        separable=(g, g),
        name="gaussian_blur",
        pinv_rtol=pinv_rtol,
        pinv_max_iter=pinv_max_iter,
    )


gaussian_blur.test_shapes = ((3, 37, 31), (1, 28, 28), (1, 1, 5))  # type: ignore[attr-defined]


@OPERATORS.register(
    "motion_blur",
    label="Motion blur",
    params=(
        Param("kernel_size", low=3, high=255, step=2, help="kernel size at 256×256 (odd)"),
        Param("intensity", low=0.0, high=1.0, step=0.05, help="irregularity of the motion"),
        Param("seed", low=0, high=2**31 - 1, step=1, help="seed of the kernel (fixed)"),
    ),
    tags={"image"},
    reference="Moufad et al. 2025, §5; DPS: 61×61 motion kernel, intensity 0.5, reflect padding",
)
def motion_blur(
    shape: tuple[int, int, int],
    *,
    kernel_size: int = 61,
    intensity: float = 0.5,
    seed: int = 0,
    pinv_rtol: float = 1e-6,
    pinv_max_iter: int = 500,
) -> ReflectBlur:
    """Motion blur by a seeded random camera-shake kernel, reflect padding."""
    shape = _blur_shape("motion_blur", shape, kernel_size)
    size, _ = scaled_kernel_geometry(shape, int(kernel_size), 1.0)
    kernel = motion_blur_kernel(size, float(intensity), int(seed))
    _, h, w = shape
    pad_h, pad_w = _support_radius(kernel)
    if pad_h >= h or pad_w >= w:
        raise ValueError(
            f"motion_blur: a {describe_shape(shape[1:])} image is too small for the "
            f"{size}×{size} motion kernel (reflect padding needs more than {max(pad_h, pad_w)} "
            "pixels per side); use images at least 2 pixels high and wide"
        )
    return ReflectBlur(
        shape, kernel, name="motion_blur", pinv_rtol=pinv_rtol, pinv_max_iter=pinv_max_iter
    )


motion_blur.test_shapes = ((3, 21, 17), (1, 28, 28))  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- separable SVD blur


def toeplitz_blur_matrix(size: int, kernel_1d: Tensor) -> Tensor:
    """``(size, size)`` matrix of 1-D correlation with ``kernel_1d`` and zero padding."""
    centre = kernel_1d.numel() // 2
    offsets = torch.arange(size).reshape(1, -1) - torch.arange(size).reshape(-1, 1)  # j − i
    inside = offsets.abs() <= centre
    values = kernel_1d.to(torch.float64)[(offsets + centre).clamp(0, kernel_1d.numel() - 1)]
    return torch.where(inside, values, torch.zeros((), dtype=torch.float64))


class SeparableBlurSVD(SVDOperator, ImageOperator):
    """``A X = M_h X M_wᵀ`` per channel, from the SVDs of the 1-D matrices (DDRM style).

    Args:
        x_shape: ``(C, H, W)``.
        kernel_rows: 1-D kernel along the rows (height); odd length.
        kernel_cols: 1-D kernel along the columns (width); odd length.
        zero_threshold: 1-D singular values below it are set to 0 (DDRM: 3e-2).
        name: the registry key, used in messages.

    The spectral vector lists the pixel-frequency pairs ``(i, j)`` by decreasing singular
    value ``s_i s_j``, channels innermost (index ``k·C + c``).
    """

    linear = True
    has_svd = True

    def __init__(
        self,
        x_shape: tuple[int, int, int],
        kernel_rows: Tensor,
        kernel_cols: Tensor,
        *,
        zero_threshold: float = 3e-2,
        name: str = "blur_svd",
    ) -> None:
        ImageOperator.__init__(self, name, x_shape)
        c, h, w = self.x_shape
        factors = []
        for size, kernel in ((h, kernel_rows), (w, kernel_cols)):
            matrix = toeplitz_blur_matrix(size, torch.as_tensor(kernel, dtype=torch.float64))
            u, s, vh = torch.linalg.svd(matrix)
            s = torch.where(s < zero_threshold, torch.zeros_like(s), s)
            factors.append((u, s, vh.T.contiguous(), (u * s) @ vh))
        (self._u_rows, s_rows, self._v_rows, self._m_rows) = factors[0]
        (self._u_cols, s_cols, self._v_cols, self._m_cols) = factors[1]
        pixel_singular_values = torch.outer(s_rows, s_cols).flatten()
        sorted_values, permutation = torch.sort(pixel_singular_values, descending=True, stable=True)
        n_nonzero = int((sorted_values > 0).sum())
        if n_nonzero == 0:
            raise ValueError(
                f"{name}: every singular value is below zero_threshold={zero_threshold}; "
                "lower the threshold"
            )
        self._permutation = permutation
        self._inverse_permutation = torch.argsort(permutation)
        self._singular_values = sorted_values[:n_nonzero].repeat_interleave(c)
        self.zero_threshold = float(zero_threshold)

    @property
    def y_dim(self) -> int:
        return self.x_numel

    def _sandwich(self, left: str, x: Tensor, right: str, *, transpose: bool) -> Tensor:
        """``L X Rᵀ`` (or ``Lᵀ X R`` when ``transpose``) for every image and channel."""
        lmat = self.constant(left, getattr(self, left), x)
        rmat = self.constant(right, getattr(self, right), x)
        if transpose:
            return lmat.T @ x @ rmat
        return lmat @ x @ rmat.T

    def _to_spectral(self, grid: Tensor) -> Tensor:
        """``(B, C, H, W)`` frequency grid -> ``(B, C·H·W)`` sorted, channels innermost."""
        batch, c = grid.shape[0], self.x_shape[0]
        flat = grid.reshape(batch, c, -1)
        flat = flat.index_select(2, self.constant("_permutation", self._permutation, grid))
        return flat.transpose(1, 2).reshape(batch, -1)

    def _from_spectral(self, coeffs: Tensor) -> Tensor:
        c, h, w = self.x_shape
        batch = coeffs.shape[0]
        flat = coeffs.reshape(batch, h * w, c).transpose(1, 2)
        flat = flat.index_select(
            2, self.constant("_inverse_permutation", self._inverse_permutation, coeffs)
        )
        return flat.reshape(batch, c, h, w)

    # -- direct forms
    def A(self, x: Tensor) -> Tensor:
        return self._sandwich("_m_rows", self.check_input(x), "_m_cols", transpose=False)

    def A_adjoint(self, y: Tensor) -> Tensor:
        y = y.reshape(y.shape[0], *self.x_shape)
        return self._sandwich("_m_rows", y, "_m_cols", transpose=True)

    # -- SVD
    def singular_values(self) -> Tensor:
        return self._singular_values

    def V(self, coeffs: Tensor) -> Tensor:
        return self._sandwich("_v_rows", self._from_spectral(coeffs), "_v_cols", transpose=False)

    def V_adjoint(self, x: Tensor) -> Tensor:
        x = self.check_input(x)
        return self._to_spectral(self._sandwich("_v_rows", x, "_v_cols", transpose=True))

    def V_r(self, coeffs_r: Tensor) -> Tensor:
        full = coeffs_r.new_zeros(coeffs_r.shape[0], self.x_numel)
        full[:, : coeffs_r.shape[1]] = coeffs_r
        return self.V(full)

    def U(self, coeffs: Tensor) -> Tensor:
        return self._sandwich("_u_rows", self._from_spectral(coeffs), "_u_cols", transpose=False)

    def U_adjoint(self, y: Tensor) -> Tensor:
        y = y.reshape(y.shape[0], *self.x_shape)
        return self._to_spectral(self._sandwich("_u_rows", y, "_u_cols", transpose=True))


@OPERATORS.register(
    "gaussian_blur_svd",
    label="Gaussian blur (separable, SVD)",
    params=(
        Param("kernel_size", low=3, high=255, step=2, help="kernel size at 256×256 (odd)"),
        Param("std", low=0.1, high=50.0, step=0.1, help="std in pixels at 256×256"),
        Param(
            "zero_threshold",
            low=0.0,
            high=0.5,
            step=0.005,
            help="1-D singular values below it are zeroed (DDRM: 0.03)",
        ),
    ),
    tags={"image"},
    reference="DDRM Deblurring H-function (Kawar et al. 2022), the paper's blur_svd; zero padding",
)
def gaussian_blur_svd(
    shape: tuple[int, int, int],
    *,
    kernel_size: int = 61,
    std: float = 3.0,
    zero_threshold: float = 3e-2,
) -> SeparableBlurSVD:
    """Separable Gaussian blur with zero padding and an exact SVD (for PGDM, DDNM, DiffPIR)."""
    shape = _blur_shape("gaussian_blur_svd", shape, kernel_size)
    if not std > 0:
        raise ValueError(f"gaussian_blur_svd: std must be positive, got {std}")
    if not 0.0 <= zero_threshold < 1.0:
        raise ValueError(
            f"gaussian_blur_svd: zero_threshold must lie in [0, 1), got {zero_threshold}"
        )
    size, scaled_std = scaled_kernel_geometry(shape, int(kernel_size), float(std))
    g = gaussian_kernel_1d(size, scaled_std)
    return SeparableBlurSVD(shape, g, g, zero_threshold=zero_threshold, name="gaussian_blur_svd")


gaussian_blur_svd.test_shapes = ((3, 37, 31), (1, 28, 28), (1, 1, 5))  # type: ignore[attr-defined]
