"""What the server accepts from one request and keeps per visitor, in one place: sessions kept
in memory, the cache's age, editor layers, decoded pixels per request, the length of a
message; and the checks that apply them before anything is decoded.

No gradio import here: the checks raise ``ValueError`` with a message for the user.
"""

from __future__ import annotations

import io
import math
from typing import Any

from PIL import Image

from mgps.utils.images import to_8bit

from .convert import MAX_MEGAPIXELS

__all__ = [
    "STATE_SESSIONS",
    "DELETE_CACHE",
    "MAX_LAYERS",
    "MAX_REQUEST_MEGAPIXELS",
    "MAX_PENDING_BLOBS",
    "MAX_PENDING_MB",
    "MAX_MESSAGE",
    "MAX_NAME",
    "short",
    "cut",
    "pending_bytes",
    "check_editor_files",
    "eight_bit_png",
]

# Gradio keeps a copy of the page's configuration for each visitor (about 0.5 MB here) for up
# to `state_session_capacity` visitors (10 000 by default); the oldest are forgotten beyond.
STATE_SESSIONS = 50
# (every, older than) in seconds: uploads and results in gradio's cache are deleted hourly.
DELETE_CACHE = (600, 3600)
# The page sends the background, one layer of strokes and their composite; an API client may
# send more layers, each decoded at full size: at most this many.
MAX_LAYERS = 2
# Decoded pixels of one editor value (background + layers + composite): three full-size
# images at the upload limit.
MAX_REQUEST_MEGAPIXELS = 3 * MAX_MEGAPIXELS
# The page uploads the editor's images (as "blobs") before Run and sends their id; blobs kept
# waiting for their run: at most this many ids and megabytes (the oldest are dropped).
MAX_PENDING_BLOBS = 32
MAX_PENDING_MB = 256
MAX_MESSAGE = 400  # characters of an error message (the rest is cut)
MAX_NAME = 80  # characters of a user's value quoted in a message


def short(value: Any, limit: int = MAX_NAME) -> str:
    """``repr(value)`` cut to ``limit`` characters, saying how long it was."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text)} characters)"


def cut(message: str, limit: int = MAX_MESSAGE) -> str:
    """A message cut to ``limit`` characters."""
    return message if len(message) <= limit else message[:limit] + f"… ({len(message)} chars)"


def _size(source: Any) -> tuple[float, float] | None:
    """(width, height) from the header of a file path or file object; None if unreadable."""
    try:
        with Image.open(source) as img:  # reads the header only
            return img.size
    except Image.DecompressionBombError:  # more pixels than Pillow opens at all
        return (math.inf, 1)
    except Exception:  # noqa: BLE001 - the editor's own check names the unreadable file
        return None


def check_editor_files(background: Any, layers: list[Any], composite: Any) -> None:
    """Refuse an editor value with more than :data:`MAX_LAYERS` layers, or whose images
    together exceed :data:`MAX_REQUEST_MEGAPIXELS` once decoded (read from the headers:
    nothing is decoded here). Each item is a file path, a file object or None."""
    if len(layers) > MAX_LAYERS:
        raise ValueError(
            f"the image came with {len(layers)} layers; this app takes at most {MAX_LAYERS} "
            "(the page sends one layer of strokes). Merge the layers first."
        )
    total = 0
    for path in (background, *layers, composite):
        size = _size(path) if path is not None else None
        if size is not None:
            total += size[0] * size[1]
    if total > MAX_REQUEST_MEGAPIXELS * 1_000_000:
        held = "more than Pillow opens" if math.isinf(total) else f"{total / 1e6:.0f} megapixels"
        raise ValueError(
            f"the image and its layers hold {held} together; this app "
            f"decodes at most {MAX_REQUEST_MEGAPIXELS} per request. Send smaller layers (the "
            "size of the image) or downscale the image."
        )


def pending_bytes(blobs: dict[str, Any]) -> int:
    """Bytes held by the editor's pending blobs (``EditorDataBlobs`` by id)."""
    total = 0
    for value in blobs.values():
        for item in (value.background, value.composite, *(value.layers or [])):
            total += len(item) if item else 0
    return total


HIGH_DEPTH = ("I;16", "I;16B", "I;16L", "I;16N", "I", "F")


def eight_bit_png(path: str) -> bytes | None:
    """A high-depth grayscale image (16-bit, 32-bit integer or float) as 8-bit PNG bytes,
    scaled as the library's loader scales it (``mgps.utils.images.to_8bit``); None for
    every other image (gradio's own conversion handles them: Pillow reads 16-bit RGB(A)
    PNGs as 8-bit already). Raises ``ValueError`` for values that would be clipped."""
    with Image.open(path) as img:
        if img.mode not in HIGH_DEPTH:
            return None
        img.load()
        out = to_8bit(img)
    buffer = io.BytesIO()
    out.save(buffer, format="PNG")
    return buffer.getvalue()
