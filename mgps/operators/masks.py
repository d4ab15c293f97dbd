"""Inpainting masks: keep some pixels, drop the others (box, half, free-form).

A mask ``M ∈ {0, 1}^(C×H×W)`` (1 = observed) defines the linear map that keeps the observed
pixels, as in DDRM's ``Inpainting`` H-function [Kawar et al. 2022]: the observation is the
**vector** of kept pixels, ``y = x[M] ∈ R^(B×n)`` with ``n = ΣM``, not a masked image. Pixels
are taken in the order of ``x.flatten(1)``, i.e. channel-major ``(c·H + row)·W + col`` (DDRM
interleaves channels, ``3·(row·W + col) + c``; only the order of y differs).

Its SVD is trivial: ``V`` is the permutation that lists the observed pixels first, ``s = 1``
(``n`` times) and ``U = I``. Hence ``Aᵀ y`` puts ``y`` back at the observed pixels and zeros
elsewhere, and this is also the exact pseudo-inverse ``A⁺`` (``A Aᵀ = I``).

The paper's masks (§4, "Images"; ``docs/algorithms.md`` §5), scaled with the image:

* ``box``: rows and columns ``[round(50/256·H), round(200/256·H))`` (resp. W) removed, the
  same box in every channel; at 256×256 this is rows/columns 50–199 (a 150×150 box, not
  exactly centred). ``round`` rounds halves up.
* ``half``: the right half of the columns removed, ``[W // 2, W)`` (columns 128–255 at 256).
* ``mask``: a free-form mask given as an array or an image file (white = observed).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..registry import OPERATORS, Param
from .image_base import ImageOperator, describe_shape, image_shape
from .selection import SelectionOperator

__all__ = ["MaskOperator", "box", "half", "free_form_mask", "load_mask", "box_bounds"]


class MaskOperator(ImageOperator, SelectionOperator):
    """Keep the pixels where ``mask`` is true: ``y = x.flatten(1)[:, observed]``.

    Args:
        mask: bool tensor ``(C, H, W)``, True = observed. Must observe something and drop
            something.
        name: the registry key, used in messages.
    """

    linear = True
    has_svd = True

    def __init__(self, mask: Tensor, name: str = "mask") -> None:
        mask = torch.as_tensor(mask).to(torch.bool).cpu()
        if mask.ndim != 3:
            raise ValueError(f"{name}: expected a mask of shape (C, H, W), got {tuple(mask.shape)}")
        ImageOperator.__init__(self, name, tuple(mask.shape))
        n_observed = int(mask.sum())
        if n_observed == 0:
            raise ValueError(
                f"{name}: the mask observes no pixel (it is all zero); mark the observed "
                "pixels with 1/True (white in an image file)"
            )
        if n_observed == mask.numel():
            raise ValueError(
                f"{name}: the mask observes every pixel (it is all one), so there is nothing "
                "to restore; mark the pixels to restore with 0/False (black in an image file)"
            )
        self._set_mask(mask)

    def observation_image(self, y: Tensor, fill: float = 0.0) -> Tensor:
        """The observed pixels put back in place, unobserved ones set to ``fill`` (grey)."""
        return self._scatter(y.detach(), fill).clamp(-1.0, 1.0)


# --------------------------------------------------------------------------- box and half


def _round_half_up(value: float) -> int:
    return int(math.floor(value + 0.5))


def box_bounds(size: int) -> tuple[int, int]:
    """``[start, stop)`` of the paper's box along an axis of ``size`` pixels (50, 200 at 256)."""
    return _round_half_up(50 / 256 * size), _round_half_up(200 / 256 * size)


@OPERATORS.register(
    "box",
    label="Box inpainting",
    tags={"image"},
    reference="Moufad et al. 2025, §5 (DDRM inpainting_center mask: rows/cols 50–199 of 256)",
)
def box(shape: tuple[int, int, int]) -> MaskOperator:
    """Remove the paper's box (rows/columns 50–199 at 256×256, scaled with the image)."""
    c, h, w = image_shape("box", shape)
    (r0, r1), (c0, c1) = box_bounds(h), box_bounds(w)
    mask = torch.ones(c, h, w, dtype=torch.bool)
    mask[:, r0:r1, c0:c1] = False
    if bool(mask.all()) or not bool(mask.any()):
        raise ValueError(
            f"box: a {h}×{w} image is too small for the box mask (rows {r0}–{r1 - 1}, "
            f"columns {c0}–{c1 - 1} would remove every pixel or none); use an image with "
            "H ≥ 3 or W ≥ 3"
        )
    return MaskOperator(mask, name="box")


box.test_shapes = ((3, 37, 31), (1, 28, 28), (3, 5, 4))  # type: ignore[attr-defined]


@OPERATORS.register(
    "half",
    label="Half mask (right half missing)",
    tags={"image"},
    reference="Moufad et al. 2025, §5 (outpainting_half: columns 128–255 of 256 removed)",
)
def half(shape: tuple[int, int, int]) -> MaskOperator:
    """Remove the right half of the columns, ``[W // 2, W)``, in every row and channel."""
    c, h, w = image_shape("half", shape)
    if w < 2:
        raise ValueError(
            f"half: a {h}×{w} image has a single column, so there is no right half to "
            "remove; use an image at least 2 pixels wide"
        )
    mask = torch.ones(c, h, w, dtype=torch.bool)
    mask[:, :, w // 2 :] = False
    return MaskOperator(mask, name="half")


half.test_shapes = ((3, 37, 31), (1, 28, 28), (3, 1, 2))  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- free-form


def load_mask(source: Any, shape: tuple[int, int, int], name: str = "mask") -> Tensor:
    """Turn a user's mask into a bool tensor ``(C, H, W)`` (True = observed).

    Args:
        source: a path to an image file or a PIL image (converted to grey levels; ≥ 128,
            i.e. white, is observed), or an array-like / tensor of bools or numbers in [0, 1]
            (≥ 0.5 is observed) shaped ``(H, W)`` (same mask in every channel), ``(1, H, W)``
            or ``(C, H, W)``.
        shape: ``(C, H, W)`` of the images.
        name: operator name for messages.

    Raises:
        ValueError: empty source, unreadable file, wrong size, values outside [0, 1].
    """
    c, h, w = shape
    if source is None or (isinstance(source, str) and not source.strip()):
        raise ValueError(
            f"{name}: give the mask, as an image file path (white = observed) or an array "
            f"of shape ({h}, {w}) or ({c}, {h}, {w}) with 1/True = observed"
        )
    if hasattr(source, "convert") and hasattr(source, "size"):  # a PIL image
        grey = np.asarray(source.convert("L"), dtype=np.float64) / 255.0
        values = torch.from_numpy(grey)
    elif isinstance(source, str | os.PathLike):
        path = Path(source).expanduser()
        if not path.is_file():
            raise ValueError(f"{name}: mask file {str(path)!r} does not exist")
        try:
            from PIL import Image, UnidentifiedImageError

            with Image.open(path) as image:
                grey = np.asarray(image.convert("L"), dtype=np.float64) / 255.0
        except (OSError, UnidentifiedImageError, ValueError) as error:
            raise ValueError(
                f"{name}: could not read the mask image {str(path)!r} ({error}); give a PNG, "
                "JPEG or other image file that Pillow can open"
            ) from None
        values = torch.from_numpy(grey)
    else:
        try:
            values = torch.as_tensor(
                np.asarray(source.cpu() if isinstance(source, Tensor) else source)
            )
        except (TypeError, ValueError) as error:
            raise ValueError(f"{name}: could not turn the mask into an array ({error})") from None
    if values.ndim == 2:
        values = values.unsqueeze(0)
    if values.ndim != 3 or tuple(values.shape[1:]) != (h, w) or values.shape[0] not in (1, c):
        raise ValueError(
            f"{name}: the mask has shape {tuple(values.shape)} but the image is "
            f"{describe_shape(shape)}; give a mask of shape ({h}, {w}), (1, {h}, {w}) or "
            f"({c}, {h}, {w}) (an image file must be {w} pixels wide and {h} high)"
        )
    if values.dtype == torch.bool:
        observed = values
    else:
        if not values.is_complex() and not values.is_floating_point():
            values = values.to(torch.float64)
        if values.is_complex() or not bool(torch.isfinite(values).all()):
            raise ValueError(f"{name}: the mask must hold finite real numbers or bools")
        low, high = float(values.min()), float(values.max())
        if low < 0.0 or high > 1.0:
            raise ValueError(
                f"{name}: mask values must lie in [0, 1] (1 = observed), got values in "
                f"[{low:g}, {high:g}]"
            )
        observed = values >= 0.5
    return observed.expand(c, h, w).clone()


@OPERATORS.register(
    "mask",
    label="Free-form mask",
    params=(
        Param(
            "mask",
            help="image file (white = observed, black = to restore) or array, 1/True = observed",
        ),
    ),
    tags={"image"},
    reference="DDRM inpainting H-function (Kawar et al. 2022) with a user-drawn mask",
)
def free_form_mask(shape: tuple[int, int, int], *, mask: Any = "") -> MaskOperator:
    """Inpainting with any mask (file path or array; 1/True/white = observed)."""
    shape = image_shape("mask", shape)
    return MaskOperator(load_mask(mask, shape, "mask"), name="mask")


def _example_mask_params(shape: tuple[int, int, int]) -> dict[str, Any]:
    """A fixed scribble-like mask for tests and demos: diagonal stripes removed."""
    _, h, w = shape
    rows, cols = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    return {"mask": ((rows + 2 * cols) % 7 >= 2)}


free_form_mask.test_shapes = ((3, 37, 31), (1, 28, 28))  # type: ignore[attr-defined]
free_form_mask.example_params = _example_mask_params  # type: ignore[attr-defined]
