"""Bring your own image: read a file that is *already* degraded as the observation y.

In the ``degrade`` mode of :func:`mgps.pipeline.prepare` a clean image goes through the
operator and gets noise. Here the file **is** y, so nothing is applied to it; what each
operator needs to read it (:func:`read_observation`):

* masks (``box``, ``half``, ``mask``): the file is the whole damaged image at the prior's size;
  the pixels the mask removes are ignored whatever they hold. For ``mask`` the user's mask
  marks the damaged part (``drawn_means="missing"``); everything else is observed as it is.
* super-resolution (``sr4``, ``sr16``): the file is the low-resolution image, brought to the
  prior's size ÷ the factor (centre crop and resize, with a note when that changes it).
* blurs (``gaussian_blur``, ``gaussian_blur_svd``, ``motion_blur``): the file is the blurred
  image; the kernel's parameters are the operator parameters the user gives (defaults
  otherwise, and a note saying so).
* ``jpeg``: the file is the decoded JPEG; its quality is read from the file's quantisation
  tables (:func:`read_jpeg_quality`), unless the user sets ``quality``. A file that is not a
  JPEG needs the quality from the user.

The other operators cannot take a real file (:func:`observation_refusal` says why).
:func:`estimate_noise_sigma` offers a noise level read from the image itself.
"""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from .registry import OPERATORS

__all__ = [
    "ACCEPTED",
    "Observation",
    "observation_refusal",
    "estimate_noise_sigma",
    "suggest_sigma_y",
    "QUANTISATION_SIGMA",
    "MIN_ESTIMATE_SIZE",
    "read_jpeg_quality",
    "read_jpeg_tables",
    "read_observation",
    "used_params",
]

# how a file is the observation of each operator that can take one
ACCEPTED = {
    "box": "mask",
    "half": "mask",
    "mask": "mask",
    "sr4": "resolution",
    "sr16": "resolution",
    "gaussian_blur": "blur",
    "gaussian_blur_svd": "blur",
    "motion_blur": "blur",
    "jpeg": "jpeg",
}

_REFUSALS = {
    "phase_retrieval": "its observation is the magnitude of an oversampled Fourier transform, "
    "not a picture, so no image file can be that measurement",
    "hdr": "it models a synthetic over-exposure (values doubled, then clipped); a real "
    "photograph's exposure and tone curve are unknown, so the model would not describe the file",
    "nonlinear_blur": "it needs the KernelWizard weights and blurs with a kernel code drawn from "
    "a seed, which a real blurred photograph does not share (there is no way to give its kernel)",
}


def observation_refusal(operator: str) -> str | None:
    """``None`` if ``operator`` can take an already-degraded image as its observation, else
    the reason it cannot (the message :func:`read_observation` raises).

    Raises:
        ValueError: unknown operator name.
    """
    entry = OPERATORS[operator]
    if operator in ACCEPTED:
        return None
    if "image" not in entry.tags:
        why = "it does not act on images"
    else:
        why = _REFUSALS.get(operator, "there is no rule for reading a real file as its observation")
    return (
        f"the operator {operator!r} ({entry.label}) cannot restore an image that is already "
        f"degraded: {why}. Degrade a clean image with it instead, or pick one of: "
        f"{', '.join(sorted(ACCEPTED))}"
    )


# ---------------------------------------------------------------------------- noise level
_LAPLACIAN = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float64)


def estimate_noise_sigma(image: Any, observed: Any = None) -> float:
    """Standard deviation of white Gaussian noise in ``image``, in [-1, 1] image units.

    Immerkær's mask ``N`` (the difference of two Laplacians, blind to planes) cancels smooth
    image content and turns noise of std σ into noise of std 6σ (``‖N‖ = 6``). The estimate is
    the median absolute response over the pixels divided by ``0.6745 · 6``: the median (not
    Immerkær's mean) ignores the edges, which are a minority of the pixels. Colour channels are
    pooled.

    Args:
        image: a tensor in [-1, 1] (``(H, W)``, ``(C, H, W)`` or ``(1, C, H, W)``), or anything
            :func:`mgps.utils.images.load_image` reads (file, PIL image, uint8 array).
        observed: optional bool ``(H, W)`` array, True where the pixel is part of the
            observation; only 3 × 3 windows of observed pixels count.

    Returns:
        The estimate (0.0 for an image with no noise, e.g. a flat or piecewise-flat one).
    """
    if isinstance(image, Tensor):
        x = image.detach().to("cpu", torch.float64)
    else:
        from .utils.images import load_image

        x = load_image(image, channels=3).image.to(torch.float64)
    x = x.reshape(-1, *x.shape[-2:]).numpy()
    if x.shape[-1] < 3 or x.shape[-2] < 3:
        raise ValueError(
            f"estimating the noise needs an image of at least 3×3 pixels, got {x.shape[-1]}×{x.shape[-2]}"
        )
    h, w = x.shape[-2:]
    response = sum(
        _LAPLACIAN[i, j] * x[:, i : h - 2 + i, j : w - 2 + j] for i in range(3) for j in range(3)
    )
    if observed is not None:
        keep = np.asarray(observed, dtype=bool)
        full = np.ones((h - 2, w - 2), dtype=bool)
        for i in range(3):
            for j in range(3):
                full &= keep[i : h - 2 + i, j : w - 2 + j]
        if not full.any():
            raise ValueError("no 3×3 window of observed pixels to estimate the noise from")
        values = response[:, full]
    else:
        values = response
    return float(np.median(np.abs(values)) / (0.6745 * 6.0))


# the lowest noise level of an 8-bit file: its rounding, 2/255/√12 in [-1, 1] units
QUANTISATION_SIGMA = 2.0 / 255.0 / math.sqrt(12.0)
# below this many pixels a side, edges outnumber flat windows and the estimate is meaningless
MIN_ESTIMATE_SIZE = 16


def suggest_sigma_y(image: Tensor, observed: Any = None, operator: Any = None) -> tuple[float, str]:
    """A noise level σ_y for an observation image ``(1, C, h, w)`` in [-1, 1], and a note
    saying where it comes from.

    It is :func:`estimate_noise_sigma`, raised to the 8-bit rounding noise
    :data:`QUANTISATION_SIGMA`; for images under :data:`MIN_ESTIMATE_SIZE` pixels a side (too
    small to tell noise from edges), that rounding noise itself. For the JPEG operator (a
    smooth model of a real codec) it is raised to the model's own error on the file, the rms
    change of the image when the operator compresses it again, ‖A(y) − y‖ / √dim(y).
    """
    h, w = image.shape[-2:]
    if min(h, w) < MIN_ESTIMATE_SIZE:
        sigma, note = (
            QUANTISATION_SIGMA,
            (
                f"noise level σ_y = {QUANTISATION_SIGMA:.4f} (the 8-bit rounding noise): the "
                f"{w}×{h} observation is too small to estimate its noise from"
            ),
        )
    else:
        estimate = estimate_noise_sigma(image, observed=observed)
        sigma = max(estimate, QUANTISATION_SIGMA)
        note = f"noise level σ_y = {sigma:.4f} estimated from the image" + (
            f" (the estimate {estimate:.4f} raised to the 8-bit rounding noise)"
            if estimate < QUANTISATION_SIGMA
            else ""
        )
    if operator is not None and getattr(operator, "name", "") == "jpeg":
        with torch.no_grad():
            y = image.to(torch.float32)
            model_error = float((operator.A(y) - y).pow(2).mean().sqrt())
        if model_error > sigma:
            sigma = model_error
            note = (
                f"noise level σ_y = {sigma:.4f}: the JPEG operator's own error on the file (the "
                "rms change when it compresses the file again), above the noise seen in it"
            )
    return sigma, note + "; set it to override"


# ---------------------------------------------------------------------------- JPEG quality
def read_jpeg_tables(source: Any) -> list[np.ndarray] | None:
    """A JPEG's quantisation tables (luminance first), each 64 steps in row-major order, or
    ``None`` if ``source`` (a path, bytes or a PIL image) is not a JPEG."""
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    if isinstance(source, str | os.PathLike | io.IOBase):
        try:
            with Image.open(Path(source) if not isinstance(source, io.IOBase) else source) as img:
                return read_jpeg_tables(img)
        except (OSError, ValueError):
            return None
    tables = getattr(source, "quantization", None) if isinstance(source, Image.Image) else None
    if getattr(source, "format", None) != "JPEG" or not tables:
        return None
    found = [np.asarray(list(tables[k]), dtype=np.int64) for k in sorted(tables)[:2]]
    return found if all(t.size == 64 for t in found) else None


def read_jpeg_quality(source: Any) -> int | None:
    """The IJG quality (1–100) whose quantisation tables are nearest to a JPEG's own.

    Encoders built on libjpeg (Pillow, most software) write exactly these tables, so the
    quality comes back exactly; for other encoders (cameras) it is the nearest equivalent.

    Args:
        source: a file path, file bytes or a PIL image.

    Returns:
        The quality, or ``None`` if ``source`` is not a JPEG (a PNG, an array, a tensor).
    """
    tables = read_jpeg_tables(source)
    if tables is None:
        return None
    from .operators.jpeg import ijg_tables

    def distance(quality: int) -> float:
        standard = ijg_tables(quality)
        return sum(float(np.abs(t - s.numpy().ravel()).sum()) for t, s in zip(tables, standard))

    return min(range(1, 101), key=lambda q: (distance(q), q))


# ---------------------------------------------------------------------------- the observation
@dataclass
class Observation:
    """A file read as the observation of an operator.

    Attributes:
        operator: the operator built for the prior's image shape.
        y: ``(1, *y_shape)`` float32 observation.
        image: the observation as an image ``(1, C, h, w)`` in [-1, 1] (for the noise estimate).
        observed: bool ``(h, w)``, True where ``image`` is observed (masks), else ``None``.
        params: the operator parameters used, JSON-able (e.g. ``{"quality": 10}``).
        notes: what was done, in words.
    """

    operator: Any
    y: Tensor
    image: Tensor
    observed: np.ndarray | None
    params: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def used_params(operator: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON-able operator parameters a run uses: the registered ones with the defaults
    filled in (a drawn mask left out), and the factor of super-resolution."""
    entry = OPERATORS[operator]
    used = {**entry.defaults(), **(params or {})}
    used.pop("mask", None)
    if ACCEPTED.get(operator) == "resolution":
        used["factor"] = int(operator[2:])
    return {k: v.item() if isinstance(v, np.generic) else v for k, v in used.items()}


def _kernel_note(operator: str, shape: tuple[int, int, int], params: dict[str, Any]) -> str:
    """The blur kernel at this image's size, in words (its parameters are given at 256×256)."""
    from .operators.blur import REFERENCE_SIZE, scaled_kernel_geometry

    size, std = scaled_kernel_geometry(
        shape, int(params["kernel_size"]), float(params.get("std", 1))
    )
    at = f"{size}×{size} pixels" + (f", std {std:.2f} pixels" if "std" in params else "")
    return (
        f"{operator}: the kernel on these {shape[2]}×{shape[1]} images is {at} (its parameters "
        f"are given at {REFERENCE_SIZE}×{REFERENCE_SIZE} and scaled with the image)"
    )


def _file_jpeg(shape: tuple[int, int, int], quality: int, tables: list, notes: list[str]):
    """The JPEG operator with the file's own quantisation steps (a grayscale file has no
    chrominance table: the standard one at ``quality`` then)."""
    from .operators.jpeg import DiffJPEG, ijg_tables

    luminance = tables[0]
    chrominance = tables[1] if len(tables) > 1 else ijg_tables(quality)[1].ravel().tolist()
    notes.append("the JPEG operator uses the file's own quantisation tables")
    return DiffJPEG(shape, quality, name="jpeg", tables=(luminance, chrominance))


def read_observation(
    observation: Any,
    operator: str,
    shape: tuple[int, int, int],
    *,
    operator_params: dict[str, Any] | None = None,
    mask: Any = None,
    mask_drawn_means: str = "missing",
) -> Observation:
    """Read ``observation`` (a path, PIL image, array or tensor in [-1, 1]) as the observation
    y of ``operator`` for images of ``shape`` ``(C, H, W)`` (rules in the module docstring).

    Raises:
        ValueError: an operator that cannot take a file (:func:`observation_refusal`), a
            missing mask or JPEG quality, unreadable files, parameters the operator refuses.
    """
    from .utils.images import load_image, load_mask

    refusal = observation_refusal(operator)
    if refusal is not None:
        raise ValueError(refusal)
    entry = OPERATORS[operator]
    kind = ACCEPTED[operator]
    channels, height, width = shape
    params = dict(operator_params or {})
    for name in params:
        entry.param(name)  # unknown names: a KeyError naming the operator's parameters
    notes: list[str] = []
    observed = None
    size = (height, width)
    if kind == "resolution":
        factor = int(operator[2:])
        if height % factor or width % factor:
            raise ValueError(
                f"{operator}: the prior's images are {width}×{height}, not divisible by the factor {factor}"
            )
        size = (height // factor, width // factor)
    loaded = load_image(observation, size=size, channels=channels)
    notes += [f"observation: {n}" for n in loaded.notes]
    if kind == "resolution":
        if any(n.startswith("resized") for n in loaded.notes):
            notes.append(
                f"{operator} takes the low-resolution image at the prior's size ÷ {factor} "
                f"({size[1]}×{size[0]}); the file was resized to that"
            )
    elif kind == "mask":
        if operator == "mask":
            if mask is None:
                raise ValueError(
                    "the 'mask' operator needs a mask marking the damaged part of the image "
                    "(white or opaque strokes = damaged, with mask_drawn_means='missing')"
                )
            loaded_mask = load_mask(mask, size=size, drawn_means=mask_drawn_means)
            notes += [f"mask: {n}" for n in loaded_mask.notes]
            params["mask"] = loaded_mask.mask.numpy()
        elif mask is not None:
            raise ValueError(
                f"a mask was given but the operator is {operator!r}, whose mask is fixed; use "
                "operator 'mask' to restore a drawn region"
            )
    elif kind == "jpeg":
        read = read_jpeg_quality(observation)
        if "quality" in params:
            if read is not None and read != params["quality"]:
                notes.append(
                    f"the file's JPEG tables say quality {read}; using the quality given, {params['quality']}"
                )
        elif read is None:
            raise ValueError(
                "the JPEG operator needs the quality the image was saved with, and the "
                "observation is not a JPEG file whose tables tell it; give the quality "
                "(operator parameter quality=Q, 1–99)"
            )
        else:
            params["quality"] = min(read, 99)
            notes.append(
                f"JPEG quality {read} read from the file's quantisation tables"
                + (" (used as 99, the operator's highest)" if read > 99 else "")
            )
    else:  # blur: the kernel's parameters are the user's, the defaults otherwise
        missing = [p for p in entry.params if p.name not in params]
        if missing:
            given = ", ".join(f"{p.name}={p.default}" for p in missing)
            notes.append(f"{operator}: kernel parameters not given, using the defaults {given}")
        notes.append(_kernel_note(operator, shape, {**entry.defaults(), **params}))
    op = entry.obj(shape, **params)
    if kind == "jpeg" and "quality" not in (operator_params or {}) and read is not None:
        op = _file_jpeg(shape, params["quality"], read_jpeg_tables(observation), notes)
        if any(n.startswith(("resized", "centre-cropped")) for n in loaded.notes):
            notes.append(
                "the JPEG was cropped or resized to the prior's size, so its 8×8 blocks no "
                "longer line up with the operator's: expect a looser fit"
            )
    image = loaded.image
    with torch.no_grad():
        template = op.A(torch.zeros(1, *shape))
        if kind == "mask":
            y = op.A(image)
            observed = (op.A_adjoint(torch.ones_like(y))[0, 0] > 0).numpy()
        else:
            y = image.reshape(template.shape)
    return Observation(op, y, image, observed, used_params(operator, params), notes)
