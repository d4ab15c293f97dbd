"""Fourier phase retrieval (``phase_retrieval``): the magnitude of an oversampled 2-D DFT.

The DPS operator used by the paper (``docs/algorithms.md`` §5), with oversampling 2.0:

    u = (x + 1) / 2,   ũ = zero-pad(u, p_H, p_W),   y = |F(ũ)|   (per channel),

with ``p_H = int(oversampling / 8 · H)`` zero rows on top and bottom (``p_W`` likewise for the
columns; 64 at 256, so 256 → 384) and ``F`` the centred orthonormal 2-D DFT
``fftshift(fft2(ifftshift(ũ), norm="ortho"))``. The observation is a real image
``(B, C, H + 2 p_H, W + 2 p_W)``.

The map forgets the phase, so it cannot tell ``u`` from its 180° rotation (about the centre
of the padded image) or from a shift that keeps it inside the padding: those are the trivial
ambiguities, and the reason the paper keeps the best of four runs.

``A_pinv`` cannot undo that and is only a starting point: the flat image whose mean matches
the zero-frequency coefficient (``y[..., H'//2, W'//2] = Σ ũ / √(H'W')``, so the mean of ``u``
is that coefficient times ``√(H'W') / (H W)``), clamped to [-1, 1]. The magnitude ignores the
sign, so this assumes ``u ≥ 0`` (an image). ``observation_image`` shows ``log(1 + y)`` scaled
to [-1, 1] per image.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from ..registry import OPERATORS, Param
from .image_base import ImageOperator, image_shape

__all__ = ["PhaseRetrieval", "phase_retrieval", "centred_fft2"]


def centred_fft2(image: Tensor) -> Tensor:
    """``fftshift(fft2(ifftshift(image), norm="ortho"))`` over the last two dimensions."""
    dims = (-2, -1)
    shifted = torch.fft.ifftshift(image, dim=dims)
    return torch.fft.fftshift(torch.fft.fft2(shifted, norm="ortho"), dim=dims)


class PhaseRetrieval(ImageOperator):
    """``y = |F(zero-pad((x + 1)/2))|`` per channel (see the module docstring).

    Args:
        x_shape: ``(C, H, W)``; any size.
        oversampling: padding ``int(oversampling / 8 · size)`` on each side (2.0 in the paper).
        name: the registry key, used in messages.
    """

    linear = False

    def __init__(
        self,
        x_shape: tuple[int, int, int],
        oversampling: float = 2.0,
        name: str = "phase_retrieval",
    ) -> None:
        ImageOperator.__init__(self, name, x_shape)
        if not oversampling >= 0:
            raise ValueError(f"{name}: oversampling must be non-negative, got {oversampling}")
        c, h, w = self.x_shape
        self.oversampling = float(oversampling)
        self.padding = (int(oversampling / 8.0 * h), int(oversampling / 8.0 * w))
        self.y_shape = (c, h + 2 * self.padding[0], w + 2 * self.padding[1])

    def A(self, x: Tensor) -> Tensor:
        """``(B, C, H, W) -> (B, C, H + 2 p_H, W + 2 p_W)``: Fourier magnitudes."""
        x = self.check_input(x)
        pad_h, pad_w = self.padding
        padded = F.pad((x + 1.0) / 2.0, (pad_w, pad_w, pad_h, pad_h))
        return centred_fft2(padded).abs()

    def A_pinv(self, y: Tensor) -> Tensor:
        """A flat image with the mean read off the zero-frequency magnitude (an initialisation)."""
        y = y.reshape(y.shape[0], *self.y_shape)
        c, h, w = self.x_shape
        _, h_pad, w_pad = self.y_shape
        zero_frequency = y[:, :, h_pad // 2, w_pad // 2]
        mean_u = zero_frequency * math.sqrt(h_pad * w_pad) / (h * w)
        x = (2.0 * mean_u - 1.0).clamp(-1.0, 1.0)
        return x.reshape(-1, c, 1, 1).expand(-1, c, h, w).clone()

    # the trivial ambiguities, for scoring against a known truth
    symmetries = "180° rotation and shifts within the padding"

    def align(self, x: Tensor, truth: Tensor, tolerance: float = 1e-2) -> Tensor:
        """Each image of ``x`` in ``truth``'s orientation: of its twins that the operator cannot
        tell apart from it (180° rotations and circular shifts of the padded image, cropped
        back, whose ‖A(twin) − A(x)‖ is within ``tolerance`` × ‖A(x)‖), the one closest to
        ``truth`` (``(1, C, H, W)`` or one per image). The image itself is one of them, so the
        score of the result is never below the plain one."""
        x = self.check_input(x)
        c, h, w = self.x_shape
        pad_h, pad_w = self.padding
        padded = F.pad((x + 1.0) / 2.0, (pad_w, pad_w, pad_h, pad_h))
        size_h, size_w = padded.shape[-2:]
        twins = []
        # an exact twin: rotation about the DFT's centre (flip, then roll by 1 when even)
        rotated = torch.flip(padded, (-2, -1)).roll((1 - size_h % 2, 1 - size_w % 2), (-2, -1))
        for image in (padded, rotated):
            for dy in range(-pad_h - 1, pad_h + 2):
                for dx in range(-pad_w - 1, pad_w + 2):
                    twins.append(image.roll((dy, dx), (-2, -1)))
        cropped = torch.stack(twins, 1)[..., pad_h : pad_h + h, pad_w : pad_w + w]  # (B, K, ...)
        cropped = 2.0 * cropped - 1.0
        with torch.no_grad():
            fit = self.A(cropped.flatten(0, 1)).reshape(*cropped.shape[:2], -1)
            own = self.A(x).reshape(x.shape[0], 1, -1)
            same = (fit - own).norm(dim=2) <= tolerance * own.norm(dim=2)
            same[:, (pad_h + 1) * (2 * pad_w + 3) + pad_w + 1] = True  # the image itself
            error = (cropped - truth.to(cropped).unsqueeze(1)).flatten(2).pow(2).mean(2)
            best = error.masked_fill(~same, math.inf).argmin(1)
        return cropped[torch.arange(x.shape[0]), best]

    def observation_image(self, y: Tensor) -> Tensor:
        """``log(1 + y)`` scaled to [-1, 1] per image, shape ``(B, C, H', W')``."""
        y = y.detach().reshape(y.shape[0], *self.y_shape)
        log_magnitude = torch.log1p(y.clamp_min(0.0))
        peak = log_magnitude.flatten(1).amax(1).clamp_min(torch.finfo(y.dtype).tiny)
        return 2.0 * log_magnitude / peak.reshape(-1, 1, 1, 1) - 1.0


@OPERATORS.register(
    "phase_retrieval",
    label="Phase retrieval",
    params=(
        Param(
            "oversampling",
            low=0.0,
            high=8.0,
            step=0.5,
            help="zero padding int(oversampling / 8 · size) per side",
        ),
    ),
    tags={"image"},
    reference="Moufad et al. 2025, §5; DPS (Chung et al. 2023) phase retrieval, oversampling 2",
)
def phase_retrieval(shape: tuple[int, int, int], *, oversampling: float = 2.0) -> PhaseRetrieval:
    """Magnitude of the centred orthonormal 2-D DFT of the zero-padded image (any size)."""
    return PhaseRetrieval(
        image_shape("phase_retrieval", shape), oversampling, name="phase_retrieval"
    )


phase_retrieval.test_shapes = ((3, 37, 31), (1, 28, 28), (3, 32, 32))  # type: ignore[attr-defined]
