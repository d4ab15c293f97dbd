"""Bring your own image, the app's side: which prior an example belongs to, whether an image
looks like what a prior knows (a one-line warning), what the chosen degradation needs from an
image that is already degraded (the library's refusal, the JPEG quality read from the file,
the noise level estimated from the image), and images drawn on a blank canvas.

The observation itself is read by the library (``mgps.pipeline.prepare_observation``); here
are only the words and the editor's values. No gradio import.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

import mgps

from . import catalog
from .convert import editor_image

__all__ = [
    "DEGRADE",
    "OBSERVATION",
    "INPUT_MODES",
    "STROKES_MASK",
    "STROKES_IMAGE",
    "STROKE_MODES",
    "example_kind",
    "ExamplePrior",
    "prior_for_example",
    "fit_warning",
    "observation_hint",
    "noise_suggestion",
    "jpeg_quality",
    "same_picture",
    "blank_canvas",
    "drawn_image",
    "bake_strokes",
]

# ---------------------------------------------------------------------------- the two modes
DEGRADE = "degrade"  # the app degrades a clean image (y = A(x) + noise)
OBSERVATION = "observation"  # the image is y, already degraded
INPUT_MODES = [
    ("The app degrades a clean image", DEGRADE),
    ("My image is already degraded (it is y)", OBSERVATION),
]

STROKES_MASK = "mask"  # strokes mark the part to restore
STROKES_IMAGE = "image"  # strokes are the image (white ink)
STROKE_MODES = [
    ("the mask: the part to restore", STROKES_MASK),
    ("the image: white ink (draw a digit or a garment)", STROKES_IMAGE),
]


# ---------------------------------------------------------------------------- examples
# the priors each kind of shipped example belongs to, the preferred first
EXAMPLE_PRIORS: dict[str, tuple[str, ...]] = {
    "digits": ("digits", "digits-exact"),
    "clothes": ("fashion",),
    "photo": ("celebahq-256", "ldm-celebahq-256"),
}
KIND_WORDS = {"digits": "digits", "clothes": "clothes", "photo": "photographs"}


def example_kind(path: str | os.PathLike[str]) -> str:
    """``"digits"``, ``"clothes"`` or ``"photo"`` for a shipped example (by its file name)."""
    p = Path(path)
    if p.parent.name == "photos":
        return "photo"
    return "clothes" if p.stem.startswith("fashion") else "digits"


@dataclass(frozen=True)
class ExamplePrior:
    prior: str | None  # the prior to switch to (None: none can run here, keep the current)
    note: str  # what happened, or what would work


def prior_for_example(kind: str, current: str) -> ExamplePrior:
    """The prior an example of ``kind`` belongs to: the current one if it is one of them,
    else the first that loads here; or, where none loads (a photograph on a CPU without the
    hub's weights), None and a note naming what would work."""
    wanted = EXAMPLE_PRIORS.get(kind, ())
    if not wanted:
        return ExamplePrior(None, "")
    if current in wanted:
        return ExamplePrior(current, "")
    labels = {p.name: p for p in catalog.priors()}
    for name in wanted:
        choice = labels.get(name)
        if choice is not None and choice.available:
            return ExamplePrior(name, f"The prior is now {choice.label}: the one {kind} belong to.")
    first = labels.get(wanted[0])
    what = f"{first.label}: {first.why}" if first is not None else wanted[0]
    current_label = labels[current].label if current in labels else current
    return ExamplePrior(
        None,
        f"⚠️ No prior here restores {KIND_WORDS.get(kind, kind)}: the one they need is "
        f"{what}. It runs on a GPU Space (which preloads it) or with the model in the local "
        f"Hugging Face cache. Run would restore this image with {current_label}, as one of its "
        "own images, not as itself.",
    )


# ---------------------------------------------------------------------------- resemblance
def _rgb(image: Any) -> np.ndarray | None:
    """An image source as a float RGB array in [0, 1] (transparency on white), or None."""
    if image is None:
        return None
    if isinstance(image, str | os.PathLike):
        with Image.open(image) as img:
            pil = img.convert("RGBA")
    elif isinstance(image, Image.Image):
        pil = image.convert("RGBA")
    else:
        arr = np.asarray(image)
        if arr.dtype != np.uint8:
            arr = np.clip(arr, 0, 255).astype(np.uint8)
        pil = Image.fromarray(arr).convert("RGBA")
    flat = Image.alpha_composite(Image.new("RGBA", pil.size, "white"), pil).convert("RGB")
    return np.asarray(flat, dtype=np.float64) / 255.0


COLOUR_THRESHOLD = 0.03  # mean |R − G|, |G − B| above which an image counts as colour
LIGHT_BORDER = 0.35  # mean of the outer band above which a background counts as light


def _is_colour(rgb: np.ndarray) -> bool:
    spread = np.abs(rgb[..., 0] - rgb[..., 1]) + np.abs(rgb[..., 1] - rgb[..., 2])
    return float(spread.mean()) / 2 > COLOUR_THRESHOLD


def _border(rgb: np.ndarray) -> float:
    """Mean brightness of the outer tenth of the image (its background, for a centred object)."""
    grey = rgb.mean(-1)
    h, w = grey.shape
    bh, bw = max(1, h // 10), max(1, w // 10)
    band = np.concatenate(
        [grey[:bh].ravel(), grey[-bh:].ravel(), grey[:, :bw].ravel(), grey[:, -bw:].ravel()]
    )
    return float(band.mean())


def _prior_shape(prior: str) -> tuple[int, int, int] | None:
    from mgps.pipeline import image_shape_of
    from mgps.priors.loading import load_prior

    from .device import DEVICE

    try:
        shape = image_shape_of(load_prior(prior, device=DEVICE))
    except Exception:  # noqa: BLE001 - an unavailable prior is reported elsewhere
        return None
    return tuple(shape) if len(shape) == 3 else None  # type: ignore[return-value]


def _colour_priors_note() -> str:
    """Which colour priors can run here, or that none can and where one would."""
    choices = catalog.priors()
    here = [p.label for p in choices if p.available and (_prior_shape(p.name) or (1,))[0] == 3]
    if here:
        return "Colour priors here: " + "; ".join(here) + "."
    hub = [p for p in choices if not p.available and "hub" in p.tags]
    why = f" ({hub[0].why})" if hub else ""
    return (
        f"No colour prior can run here{why}; on a GPU Space the face prior "
        f"({catalog.GPU_PRIOR}) would."
    )


def fit_warning(image: Any, prior: str) -> str:
    """One line when ``image`` does not look like what ``prior`` knows, else "".

    Three simple checks, in the image's own pixels: a colour image on a grey prior; a light
    background on the 28×28 priors (their digits and garments are light on black); a grey
    image on a colour prior."""
    rgb = _rgb(editor_image(image))
    shape = _prior_shape(prior)
    if rgb is None or shape is None or prior not in mgps.PRIORS:
        return ""
    label = mgps.PRIORS[prior].label
    channels, height, width = shape
    colour = _is_colour(rgb)
    if channels == 1 and colour:
        return (
            f"⚠️ This is a colour image; {label} knows {width}×{height} grey images: it will be "
            f"restored as one of those, not as itself. {_colour_priors_note()}"
        )
    if channels == 1 and max(height, width) <= 64 and _border(rgb) > LIGHT_BORDER:
        return (
            f"⚠️ This image has a light background; {label} knows light figures on a black "
            "background: the restoration will look like one of those, not like this image."
        )
    if channels == 3 and not colour:
        return (
            f"⚠️ This is a grey image; {label} knows colour {width}×{height} images: the "
            "restoration will add colours the image does not have."
        )
    return ""


# ---------------------------------------------------------------------------- observation mode
def observation_hint(operator: str) -> str:
    """What an already-degraded image means for ``operator`` (or the library's refusal)."""
    from mgps.pipeline import observation_refusal

    why = observation_refusal(operator)
    if why is not None:
        return f"⚠️ {why[0].upper()}{why[1:]}."
    hints = {
        "mask": "Draw over the damaged part; everything else is taken as observed, as it is.",
        "box": "The centre box of the image is taken as missing; the rest as observed.",
        "half": "The right half of the image is taken as missing; the left half as observed.",
        "sr4": "Your image is the low-resolution one (the prior's size ÷ 4; resized to that "
        "with a note if it is not).",
        "sr16": "Your image is the low-resolution one (the prior's size ÷ 16; resized to that "
        "with a note if it is not).",
        "jpeg": "The quality is read from the JPEG file; set it for a PNG (or to override).",
    }
    if operator in hints:
        return hints[operator]
    return "Your image is the blurred one: give the kernel's parameters below."


def noise_suggestion(
    image: Any, prior: str, operator: str, operator_params: dict[str, Any] | None = None
) -> tuple[float, str] | None:
    """The noise level σ_y the library would take for ``image`` as the observation of
    ``operator`` (``prepare_observation`` with no σ_y: the image's own noise, the 8-bit
    rounding noise for small images, a JPEG model's own error) and its note; None where it
    cannot tell (an operator that takes no file, the free-form mask before strokes are drawn,
    a JPEG operator without a quality)."""
    from mgps.pipeline import observation_refusal, prepare_observation

    from .convert import editor_mask
    from .device import DEVICE

    source = editor_image(image)
    if source is None or operator not in mgps.OPERATORS or observation_refusal(operator):
        return None
    mask = editor_mask(image) if operator == "mask" else None
    if operator == "mask" and mask is None:
        return None
    try:
        setup = prepare_observation(
            prior,
            source,
            operator,
            operator_params=operator_params,
            mask=mask,
            mask_drawn_means="missing",
            device=DEVICE,
        )
    except (ValueError, OSError):
        return None
    note = next((n for n in setup.notes if n.startswith("noise level")), "")
    return float(setup.problem.sigma_y), note


def same_picture(file: Any, image: Any, tolerance: float = 4 / 255) -> bool:
    """Whether the uploaded ``file`` holds the editor's ``image`` (same size, pixels within
    ``tolerance``: browsers and Pillow decode a JPEG a little differently); False when either
    cannot be read. Guards against using a file the editor no longer shows."""
    try:
        a, b = _rgb(file), _rgb(editor_image(image))
    except (OSError, ValueError):
        return False
    if a is None or b is None or a.shape != b.shape:
        return False
    return float(np.abs(a - b).mean()) <= tolerance


def jpeg_quality(original: Any) -> int | None:
    """The JPEG quality of the uploaded file as it is (None: not a JPEG, or no file)."""
    from mgps.pipeline import read_jpeg_quality

    if original is None:
        return None
    try:
        return read_jpeg_quality(original)
    except (OSError, ValueError):
        return None


# ---------------------------------------------------------------------------- drawing
def blank_canvas(prior: str) -> dict[str, Any]:
    """An editor value with a black background of the prior's size (28×28 for the digits), to
    draw an image on in white."""
    shape = _prior_shape(prior) or (1, 28, 28)
    _, height, width = shape
    background = np.zeros((height, width, 4), np.uint8)
    background[..., 3] = 255
    return {"background": background, "layers": [], "composite": background.copy()}


def _layers_alpha(value: dict[str, Any], shape: tuple[int, int]) -> np.ndarray | None:
    from .convert import _alpha

    ink = None
    for layer in value.get("layers") or []:
        alpha = _alpha(layer)
        if alpha is None or alpha.shape != shape:
            continue
        a = alpha.astype(np.float64) / 255.0
        ink = a if ink is None else np.maximum(ink, a)
    return ink


def drawn_image(value: Any) -> np.ndarray | None:
    """The image of a drawing: the background with the strokes as white ink (by their
    opacity, whatever the brush colour), as an RGB uint8 array; None without a background."""
    rgb = _rgb(editor_image(value))
    if rgb is None:
        return None
    if isinstance(value, dict):
        ink = _layers_alpha(value, rgb.shape[:2])
        if ink is not None:
            rgb = rgb * (1 - ink[..., None]) + ink[..., None]
    return np.round(rgb * 255).astype(np.uint8)


def bake_strokes(value: Any) -> dict[str, Any] | None:
    """The editor value with its strokes made part of the image (white ink) and no strokes
    left, so that the next strokes can be the mask; None when there is nothing to bake."""
    if not isinstance(value, dict) or not value.get("layers"):
        return None
    image = drawn_image(value)
    if image is None:
        return None
    rgba = np.concatenate([image, np.full((*image.shape[:2], 1), 255, np.uint8)], axis=-1)
    return {"background": rgba, "layers": [], "composite": rgba.copy()}
