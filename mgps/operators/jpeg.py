"""Differentiable JPEG compression (``jpeg``), the paper's JPEG task (QF = 2).

JPEG is not differentiable, so the forward model is DiffJPEG (Shin & Song 2017; the
pipeline of github.com/mlomnitz/DiffJPEG, ``docs/algorithms.md`` §5), re-implemented here:

    H(x) = 2 · JPEG_QF((x + 1) / 2) − 1,

where, on an image ``u ∈ [0, 1]``:

1. scale by 255 and convert RGB → YCbCr (JPEG/JFIF matrix, offsets 0, 128, 128);
2. 4:2:0 chroma subsampling: average the Cb and Cr channels over 2 × 2 blocks;
3. split each channel into 8 × 8 blocks, subtract 128, apply the orthonormal 2-D DCT-II;
4. quantise: divide by the standard luminance (Y) / chrominance (Cb, Cr) table times
   ``factor(QF) = (5000 / QF) / 100`` if QF < 50 else ``(200 − 2 QF) / 100`` (QF = 2 → 25;
   QF ∈ [1, 99], since QF = 100 would give zero steps),
   and round with the differentiable ``round(z) + (z − round(z))³``;
5. dequantise (multiply back), inverse DCT, add 128, merge the blocks, upsample the chroma by
   repeating each value 2 × 2, convert YCbCr → RGB, clamp to [0, 255] and divide by 255.

As in DiffJPEG the quantisation tables are applied transposed (``table[u, v]`` of the
standard table is used for vertical frequency ``v`` and horizontal frequency ``u``); the
tables are nearly symmetric. The differentiable rounding keeps a cubic remainder, so the
output is not exactly piecewise constant: at QF = 2 the AC coefficients are shrunk towards 0
rather than zeroed, which still makes the 8 × 8 (16 × 16 for chroma) blocks plain to see.

Grayscale images (C = 1) skip the colour transform and the chroma channels (Y only, luminance
table). Sizes that are not multiples of 16 (8 for grayscale) are padded by replicating the
last row/column, compressed, and cropped back, so any size works (real JPEG encoders pad the
same way). Colour images must have 3 channels.

The operator is nonlinear. ``A_pinv`` is the identity: the JPEG image itself is the best
available inverse (there is no pseudo-inverse of a quantiser).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from ..registry import OPERATORS, Param
from .image_base import ImageOperator, image_shape

__all__ = [
    "DiffJPEG",
    "jpeg",
    "quality_to_factor",
    "ijg_tables",
    "differentiable_round",
    "dct_matrix",
]

# Standard JPEG quantisation tables (ITU-T T.81 Annex K), row = vertical frequency.
_LUMINANCE_TABLE = (
    (16, 11, 10, 16, 24, 40, 51, 61),
    (12, 12, 14, 19, 26, 58, 60, 55),
    (14, 13, 16, 24, 40, 57, 69, 56),
    (14, 17, 22, 29, 51, 87, 80, 62),
    (18, 22, 37, 56, 68, 109, 103, 77),
    (24, 35, 55, 64, 81, 104, 113, 92),
    (49, 64, 78, 87, 103, 121, 120, 101),
    (72, 92, 95, 98, 112, 100, 103, 99),
)
_CHROMINANCE_CORNER = ((17, 18, 24, 47), (18, 21, 26, 66), (24, 26, 56, 99), (47, 66, 99, 99))

_RGB_TO_YCBCR = (
    (0.299, 0.587, 0.114),
    (-0.168736, -0.331264, 0.5),
    (0.5, -0.418688, -0.081312),
)
_YCBCR_TO_RGB = ((1.0, 0.0, 1.402), (1.0, -0.344136, -0.714136), (1.0, 1.772, 0.0))


def quality_to_factor(quality: float) -> float:
    """DiffJPEG's table multiplier: ``(5000/QF)/100`` for QF < 50, else ``(200 − 2·QF)/100``."""
    if quality < 50:
        return 5000.0 / quality / 100.0
    return (200.0 - 2.0 * quality) / 100.0


def ijg_tables(quality: int) -> tuple[Tensor, Tensor]:
    """The quantisation steps libjpeg (Pillow) writes at ``quality`` (1–100): the standard
    tables scaled by ``5000/Q`` (Q < 50) or ``200 − 2Q`` percent, rounded, clipped to
    [1, 255] (baseline); ``(luminance, chrominance)``, int64 ``(8, 8)``, row = vertical
    frequency (the order of Pillow's ``quantization``, untransposed)."""
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    luminance, chrominance = (t.T.to(torch.int64) for t in _tables())
    return tuple(((t * scale + 50) // 100).clamp(1, 255) for t in (luminance, chrominance))


def differentiable_round(z: Tensor) -> Tensor:
    """``round(z) + (z − round(z))³``: equals rounding at integers, with a non-zero gradient."""
    rounded = torch.round(z)
    return rounded + (z - rounded) ** 3


def dct_matrix(n: int = 8) -> Tensor:
    """Orthonormal DCT-II matrix ``D`` (``D[u, x] = a_u cos((2x + 1) u π / 2n)``), float64."""
    u = torch.arange(n, dtype=torch.float64).reshape(-1, 1)
    x = torch.arange(n, dtype=torch.float64).reshape(1, -1)
    matrix = torch.cos((2 * x + 1) * u * math.pi / (2 * n)) * math.sqrt(2.0 / n)
    matrix[0] /= math.sqrt(2.0)
    return matrix


def _tables() -> tuple[Tensor, Tensor]:
    luminance = torch.tensor(_LUMINANCE_TABLE, dtype=torch.float64).T
    chrominance = torch.full((8, 8), 99.0, dtype=torch.float64)
    chrominance[:4, :4] = torch.tensor(_CHROMINANCE_CORNER, dtype=torch.float64).T
    return luminance, chrominance


class DiffJPEG(ImageOperator):
    """``H(x) = 2·JPEG_QF((x + 1)/2) − 1`` with differentiable rounding (see module docstring).

    Args:
        x_shape: ``(C, H, W)`` with ``C`` = 1 (grayscale) or 3 (RGB); any ``H, W``.
        quality: JPEG quality factor QF in [1, 99] (100 would give zero quantisation steps).
        name: the registry key, used in messages.
        tables: optional quantisation steps ``(luminance, chrominance)``, each 64 numbers in
            row-major order (row = vertical frequency, as Pillow's ``quantization``), used
            instead of the steps derived from ``quality``: a real file's own tables.
    """

    linear = False

    def __init__(
        self,
        x_shape: tuple[int, int, int],
        quality: float = 2,
        name: str = "jpeg",
        tables: tuple[Sequence[float], Sequence[float]] | None = None,
    ) -> None:
        ImageOperator.__init__(self, name, x_shape)
        channels = self.x_shape[0]
        if channels not in (1, 3):
            raise ValueError(
                f"{name}: JPEG needs grayscale (1 channel) or RGB (3 channels) images, got "
                f"{channels} channels"
            )
        if not 1 <= quality <= 99:
            raise ValueError(
                f"{name}: quality must lie in [1, 99], got {quality} (DiffJPEG's factor is 0 "
                "at 100, which would divide by a zero quantisation step)"
            )
        self.quality = quality
        self.factor = quality_to_factor(quality)
        luminance, chrominance = _tables()
        self._luminance_step = luminance * self.factor
        self._chrominance_step = chrominance * self.factor
        if tables is not None:  # transposed, as the standard tables above
            steps = [torch.tensor(list(t), dtype=torch.float64).reshape(8, 8).T for t in tables]
            if any(bool((t <= 0).any()) for t in steps):
                raise ValueError(f"{name}: quantisation steps must be positive")
            self._luminance_step, self._chrominance_step = steps
        self._dct = dct_matrix(8)
        self._rgb_to_ycbcr = torch.tensor(_RGB_TO_YCBCR, dtype=torch.float64)
        self._ycbcr_to_rgb = torch.tensor(_YCBCR_TO_RGB, dtype=torch.float64)
        self.block = 8 if channels == 1 else 16  # padding unit (16: 2×2 chroma of 8×8 blocks)

    def _compress_channel(self, channel: Tensor, table: str, level_shift: float) -> Tensor:
        """Quantise and reconstruct one channel ``(B, h, w)`` (values centred by ``level_shift``).

        ``table`` names the quantisation steps (``"luminance"`` or ``"chrominance"``).
        """
        batch, h, w = channel.shape
        blocks = channel.reshape(batch, h // 8, 8, w // 8, 8).transpose(2, 3)  # (B, h/8, w/8, 8, 8)
        dct = self.constant("dct", self._dct, channel)
        step = self.constant(table, getattr(self, f"_{table}_step"), channel)
        coefficients = dct @ (blocks - level_shift) @ dct.T
        quantised = differentiable_round(coefficients / step) * step
        restored = dct.T @ quantised @ dct + level_shift
        return restored.transpose(2, 3).reshape(batch, h, w)

    def jpeg(self, u: Tensor) -> Tensor:
        """DiffJPEG on images ``u`` in [0, 1], shape ``(B, C, H, W)``; output in [0, 1]."""
        _, h, w = self.x_shape
        pad_h, pad_w = -h % self.block, -w % self.block
        if pad_h or pad_w:
            u = F.pad(u, (0, pad_w, 0, pad_h), mode="replicate")
        pixels = 255.0 * u
        if self.x_shape[0] == 1:
            out = self._compress_channel(pixels[:, 0], "luminance", 128.0).unsqueeze(1)
        else:
            # Y in [0, 255]; Cb, Cr centred on 0 here (JPEG stores them + 128 and its DCT
            # subtracts 128 again, which cancels).
            to_ycbcr = self.constant("rgb_to_ycbcr", self._rgb_to_ycbcr, u)
            ycbcr = torch.einsum("ij,bjhw->bihw", to_ycbcr, pixels)
            luma = self._compress_channel(ycbcr[:, 0], "luminance", 128.0)
            chroma = F.avg_pool2d(ycbcr[:, 1:], 2)  # 4:2:0 subsampling
            chroma = torch.stack(
                [self._compress_channel(chroma[:, i], "chrominance", 0.0) for i in range(2)], 1
            )
            chroma = chroma.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)
            to_rgb = self.constant("ycbcr_to_rgb", self._ycbcr_to_rgb, u)
            out = torch.einsum("ij,bjhw->bihw", to_rgb, torch.cat([luma.unsqueeze(1), chroma], 1))
        out = out.clamp(0.0, 255.0) / 255.0
        return out[:, :, :h, :w]

    def A(self, x: Tensor) -> Tensor:
        """``2·JPEG((x + 1)/2) − 1``, shape ``(B, C, H, W)``, values in [-1, 1]."""
        x = self.check_input(x)
        return 2.0 * self.jpeg((x + 1.0) / 2.0) - 1.0

    def A_pinv(self, y: Tensor) -> Tensor:
        """The identity: the JPEG image is the best available inverse."""
        return y.reshape(y.shape[0], *self.x_shape).clone()


@OPERATORS.register(
    "jpeg",
    label="JPEG (differentiable)",
    params=(Param("quality", low=1, high=99, step=1, help="JPEG quality factor QF"),),
    tags={"image"},
    reference="Moufad et al. 2025, §5 (JPEG QF 2); DiffJPEG (Shin & Song 2017, mlomnitz/DiffJPEG)",
)
def jpeg(shape: tuple[int, int, int], *, quality: int = 2) -> DiffJPEG:
    """Differentiable JPEG with quality factor ``quality`` (1 or 3 channels, any size)."""
    return DiffJPEG(image_shape("jpeg", shape), quality, name="jpeg")


jpeg.test_shapes = ((3, 32, 32), (1, 28, 28), (3, 37, 31), (1, 7, 5))  # type: ignore[attr-defined]
