"""Image conversions for the UI: ImageEditor values → (image, drawn mask), tensors → display
arrays (upscaled so 28×28 digits are visible). Metrics are computed by the library on the
native-size tensors; these arrays are for the eyes only.

No gradio import here: values are plain dicts / numpy arrays / file paths.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from PIL import Image
from torch import Tensor

from mgps.utils.images import to_uint8_array

__all__ = [
    "DISPLAY_SIZE",
    "MAX_MEGAPIXELS",
    "editor_image",
    "editor_mask",
    "display",
    "display_std",
    "image_pixels",
]

DISPLAY_SIZE = 224  # longest side of displayed images, in screen pixels (nearest upscaling)
MAX_MEGAPIXELS = 20  # uploads above this are refused before decoding (the loader allows 50)


def image_pixels(source: Any) -> tuple[int, int] | None:
    """``(width, height)`` of an image source without decoding it (None if not an image)."""
    if isinstance(source, np.ndarray):
        return (source.shape[1], source.shape[0]) if source.ndim >= 2 else None
    if isinstance(source, Image.Image):
        return source.size
    if isinstance(source, str | os.PathLike):
        try:
            with Image.open(source) as img:
                return img.size
        except Exception:  # noqa: BLE001 - the library's loader gives the real message
            return None
    return None


def check_size(source: Any, what: str = "the image") -> None:
    """Refuse images above :data:`MAX_MEGAPIXELS` before they are decoded."""
    size = image_pixels(source)
    if size is not None and size[0] * size[1] > MAX_MEGAPIXELS * 1_000_000:
        w, h = size
        raise ValueError(
            f"{what} is {w}×{h} = {w * h / 1e6:.0f} megapixels; this app accepts at most "
            f"{MAX_MEGAPIXELS} megapixels. Downscale it first (the prior works at its own "
            "small size anyway)."
        )


def editor_image(value: Any) -> Any:
    """The background of a ``gr.ImageEditor`` value (dict) or a plain image, else None.

    The RGBA background goes to the library as is: ``load_image`` composites transparency on
    white and converts to the prior's channels.
    """
    if value is None:
        return None
    if isinstance(value, dict):
        background = value.get("background")
        if background is None:
            background = value.get("composite")
        return background
    return value


def _alpha(layer: Any) -> np.ndarray | None:
    """Alpha channel of one layer (numpy RGBA/LA array, PIL image or path), or None."""
    if layer is None:
        return None
    if isinstance(layer, str | os.PathLike):
        with Image.open(layer) as img:
            layer = img.convert("RGBA") if img.mode not in ("RGBA", "LA") else img.copy()
    if isinstance(layer, Image.Image):
        if layer.mode not in ("RGBA", "LA"):
            return None
        return np.asarray(layer.getchannel("A"))
    arr = np.asarray(layer)
    if arr.ndim == 3 and arr.shape[2] in (2, 4):
        return arr[..., -1]
    return None


def editor_mask(value: Any) -> np.ndarray | None:
    """The drawn strokes of a ``gr.ImageEditor`` value as a bool ``(H, W)`` array
    (True = drawn = to restore), merged over all layers; None when nothing was drawn.

    The mask is the alpha of the layers (gradio's own inpainting recipe): the brush colour
    does not matter.
    """
    if not isinstance(value, dict):
        return None
    drawn: np.ndarray | None = None
    for layer in value.get("layers") or []:
        alpha = _alpha(layer)
        if alpha is None:
            continue
        marks = alpha > 0
        if drawn is None:
            drawn = marks
        elif drawn.shape == marks.shape:
            drawn = drawn | marks
    if drawn is None or not drawn.any():
        return None
    return drawn


def _upscale(arr: np.ndarray, size: int) -> np.ndarray:
    h, w = arr.shape[:2]
    factor = max(1, size // max(h, w))
    if factor == 1:
        return arr
    img = Image.fromarray(arr).resize((w * factor, h * factor), Image.Resampling.NEAREST)
    return np.asarray(img)


def display(x: Tensor, size: int = DISPLAY_SIZE) -> np.ndarray:
    """One image tensor in [-1, 1] (``(C, H, W)`` or ``(1, C, H, W)``) → uint8 array for
    display, upscaled by an integer factor (nearest) so its longest side is about ``size``."""
    return _upscale(to_uint8_array(x.detach().float().cpu()), size)


def display_std(std: Tensor, size: int = DISPLAY_SIZE) -> tuple[np.ndarray, float]:
    """Per-pixel std ``(C, H, W)`` → (grayscale uint8 display, white = the maximum), and that
    maximum (in [-1, 1] image units)."""
    s = std.detach().float().cpu()
    if s.ndim == 4:
        s = s[0]
    s = s.mean(0)  # one map for RGB
    peak = float(s.max())
    scaled = (s / peak if peak > 0 else s).clamp(0, 1)
    arr = (scaled * 255).round().byte().numpy()
    return _upscale(arr, size), peak
