"""The one place where images cross between files / PIL / numpy and tensors in [-1, 1].

Conventions (``mgps/types.py``): an image tensor is float ``(B, C, H, W)`` in **[-1, 1]**
with ``C`` = 1 (grayscale) or 3 (RGB); a mask is a boolean ``(H, W)`` tensor with
**True = observed** pixel (False = missing, to be filled in); in mask files white (or
opaque) means observed unless ``load_mask(..., drawn_means="missing")`` says the marks are
the holes (user strokes).

Loading rules, applied in this order by :func:`load_image` and :func:`load_mask`:

1. Open (file path, ``PIL.Image``, numpy array, or an image tensor); the first frame of an
   animation; EXIF orientation applied. Files over :data:`MAX_PIXELS` (50 megapixels) are
   refused before decoding.
2. Any PIL mode is normalised to 8-bit L / LA / RGB / RGBA: 1-bit → L; palette → RGB(A);
   16-bit (``I;16``) and 32-bit (``I``) integers scaled to 8 bits (÷257, or kept when the
   values already fit in 0..255 for ``I``); float (``F``) read as [0, 1] (or 0..255 when its
   maximum exceeds 1); CMYK / YCbCr / LAB / HSV → RGB.
3. Transparency: images are **composited on white** (a transparent background reads as
   white paper, as the web and Gradio's flattening do); masks use the alpha itself.
4. Channels: RGB → L with the ITU-R 601 luma (PIL's ``convert("L")``); L → RGB by
   replication.
5. Size: centre-crop to the target aspect ratio, then resize (Lanczos when shrinking, bicubic
   when enlarging; masks: area average then threshold at 1/2).

Each step that changes something adds a human-readable note (``"centre-cropped 300×200 to
200×200"``, sizes are width×height as image viewers show them).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from torch import Tensor

__all__ = [
    "ImageLoadError",
    "to_8bit",
    "LoadedImage",
    "LoadedMask",
    "MAX_PIXELS",
    "load_image",
    "load_mask",
    "to_pil",
    "to_uint8_array",
    "from_uint8_array",
    "save_image",
    "image_grid",
]

log = logging.getLogger(__name__)

# inputs above this are refused: absurd for this app, and a decompression-bomb guard
MAX_PIXELS = 50_000_000
ImageSource = str | os.PathLike[str] | Image.Image | np.ndarray | Tensor


class ImageLoadError(ValueError):
    """An input could not be used as an image or a mask; the message says why and what to do."""


class LoadedImage(NamedTuple):
    """Result of :func:`load_image`.

    Attributes:
        image: ``(1, C, H, W)`` float32 tensor in [-1, 1].
        notes: what was done to the input, in words (empty if nothing).
    """

    image: Tensor
    notes: list[str]


class LoadedMask(NamedTuple):
    """Result of :func:`load_mask`.

    Attributes:
        mask: ``(H, W)`` bool tensor, True = observed pixel.
        notes: what was done to the input, in words.
    """

    mask: Tensor
    notes: list[str]


# ---------------------------------------------------------------------------- opening
def _check_pixels(width: int, height: int, what: str) -> None:
    if width <= 0 or height <= 0:
        raise ImageLoadError(f"{what} is empty ({width}×{height} pixels)")
    if width * height > MAX_PIXELS:
        raise ImageLoadError(
            f"{what} has {width}×{height} = {width * height / 1e6:.0f} megapixels; the limit is "
            f"{MAX_PIXELS / 1e6:.0f}. Downscale it first."
        )


def _array_to_pil(arr: np.ndarray, notes: list[str]) -> Image.Image:
    """A numpy image ``(H, W)``, ``(H, W, 1|2|3|4)`` → PIL (uint8 0..255, bool, uint16, float [0, 1])."""
    arr = np.asarray(arr)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (2, 3, 4)):
        raise ImageLoadError(
            f"an image array must be (H, W) or (H, W, C) with C in 1..4; got shape {arr.shape}"
        )
    _check_pixels(arr.shape[1], arr.shape[0], "the image array")
    if arr.dtype == bool:
        arr = arr.astype(np.uint8) * 255
    elif arr.dtype == np.uint16:
        arr = np.round(arr.astype(np.float64) / 257.0).astype(np.uint8)
        notes.append("scaled 16-bit values to 8 bits")
    elif np.issubdtype(arr.dtype, np.floating):
        if not np.isfinite(arr).all():
            raise ImageLoadError("the image array contains NaN or inf values")
        lo, hi = float(arr.min()), float(arr.max())
        if lo < -1e-3 or hi > 1 + 1e-3:
            raise ImageLoadError(
                f"a float image array must hold values in [0, 1] (got [{lo:.3g}, {hi:.3g}]); "
                "pass uint8 for 0..255 data, or use a tensor in [-1, 1]"
            )
        arr = np.round(np.clip(arr, 0.0, 1.0) * 255.0).astype(np.uint8)
    elif arr.dtype != np.uint8:
        if np.issubdtype(arr.dtype, np.integer) and arr.min() >= 0 and arr.max() <= 255:
            arr = arr.astype(np.uint8)
        else:
            raise ImageLoadError(
                f"unsupported image array dtype {arr.dtype}; use uint8, uint16, bool or float in [0, 1]"
            )
    return Image.fromarray(np.ascontiguousarray(arr))  # L, LA, RGB or RGBA from the shape


def _open(source: ImageSource, notes: list[str]) -> Image.Image:
    """Any accepted input → a loaded PIL image (not yet normalised)."""
    if isinstance(source, Tensor):
        return to_pil(source)
    if isinstance(source, np.ndarray):
        return _array_to_pil(source, notes)
    if isinstance(source, Image.Image):
        img = source
        what = "the image"
    elif isinstance(source, str | os.PathLike):
        path = Path(source).expanduser()
        what = f"{str(path)!r}"
        if not path.exists():
            raise ImageLoadError(f"no such file: {what}")
        if path.is_dir():
            raise ImageLoadError(f"{what} is a folder, not an image file")
        if path.stat().st_size == 0:
            raise ImageLoadError(f"{what} is an empty file")
        try:
            img = Image.open(path)
        except UnidentifiedImageError as err:
            raise ImageLoadError(
                f"{what} is not an image PIL can read (PNG, JPEG, BMP, GIF, TIFF, WebP, ...)"
            ) from err
        except (OSError, Image.DecompressionBombError) as err:
            raise ImageLoadError(f"could not read {what}: {err}") from err
    else:
        raise ImageLoadError(
            "expected a file path, a PIL image, a numpy array or a tensor in [-1, 1]; got "
            f"{type(source).__name__}"
        )
    _check_pixels(img.width, img.height, what)
    if getattr(img, "n_frames", 1) > 1:
        img.seek(0)
        notes.append(f"used the first of {img.n_frames} frames")
    try:
        img.load()
        if img.getexif().get(0x0112, 1) in range(2, 9):  # EXIF orientation tag
            img = ImageOps.exif_transpose(img)
            notes.append("rotated according to the EXIF orientation")
    except (OSError, SyntaxError, ValueError) as err:  # truncated or corrupt data
        raise ImageLoadError(f"could not decode {what}: {err}") from err
    return img


def _normalise_mode(img: Image.Image, notes: list[str]) -> Image.Image:
    """Any PIL mode → one of L, LA, RGB, RGBA (8 bits per channel)."""
    mode = img.mode
    if mode in ("L", "LA", "RGB", "RGBA"):
        return img
    if mode == "1":
        notes.append("converted 1-bit → L")
        return img.convert("L")
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in img.info
        out = img.convert("RGBA" if has_alpha else "RGB")
        notes.append(f"converted palette ({mode}) → {out.mode}")
        return out
    if mode.startswith("I;16") or mode == "I":
        arr = np.asarray(img, dtype=np.float64)
        if arr.size and (arr.min() < 0 or arr.max() > 65535):
            raise ImageLoadError(
                f"the {mode} image holds values from {arr.min():g} to {arr.max():g}, outside "
                "0..65535: save it as an 8- or 16-bit image"
            )
        if mode == "I" and arr.min() >= 0 and arr.max() <= 255:
            scaled = arr
            notes.append("converted 32-bit integer (values 0..255) → L")
        else:
            scaled = arr / 257.0
            notes.append(f"converted {mode} (16-bit) → 8-bit L")
        return Image.fromarray(np.clip(np.round(scaled), 0, 255).astype(np.uint8))
    if mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        if not np.isfinite(arr).all():
            raise ImageLoadError("the float image contains NaN or inf values")
        if arr.size and (arr.min() < 0 or arr.max() > 255):
            raise ImageLoadError(
                f"the float image holds values from {arr.min():g} to {arr.max():g}, outside "
                "0..1 and 0..255: scale it to 0..1 first"
            )
        peak = 1.0 if arr.max() <= 1.0 else 255.0
        notes.append(f"converted float (F, read as 0..{peak:g}) → L")
        return Image.fromarray(np.clip(np.round(arr / peak * 255.0), 0, 255).astype(np.uint8))
    if mode in ("La", "RGBa"):
        return img.convert(mode.upper())
    out = img.convert("RGB")  # CMYK, YCbCr, LAB, HSV, RGBX, ...
    notes.append(f"converted {mode} → RGB")
    return out


def to_8bit(img: Image.Image, notes: list[str] | None = None) -> Image.Image:
    """Any PIL image as 8-bit L / LA / RGB / RGBA, scaled by the loading rules above (16-bit
    ÷257, float [0, 1] or 0..255); values that would be clipped raise ``ImageLoadError``."""
    return _normalise_mode(img, [] if notes is None else notes)


def _crop_box(width: int, height: int, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """Centre box of the largest region of ``size``'s aspect ratio (size is (H, W))."""
    th, tw = size
    if width * th > height * tw:  # too wide
        cw, ch = max(1, round(height * tw / th)), height
    else:
        cw, ch = width, max(1, round(width * th / tw))
    left, top = (width - cw) // 2, (height - ch) // 2
    return left, top, left + cw, top + ch


def _parse_size(size: int | Sequence[int] | None) -> tuple[int, int] | None:
    if size is None:
        return None
    if isinstance(size, int | np.integer):
        h = w = int(size)
    else:
        try:
            h, w = (int(s) for s in size)
        except (TypeError, ValueError) as err:
            raise ValueError(f"size must be an int or (H, W), got {size!r}") from err
    if h < 1 or w < 1:
        raise ValueError(f"size must be positive, got (H, W) = ({h}, {w})")
    if h * w > MAX_PIXELS:
        raise ValueError(f"size ({h}, {w}) exceeds {MAX_PIXELS / 1e6:.0f} megapixels")
    return h, w


def _crop_and_resize(
    img: Image.Image, size: tuple[int, int] | None, notes: list[str], *, mask: bool = False
) -> Image.Image:
    if size is None:
        return img
    box = _crop_box(img.width, img.height, size)
    if box != (0, 0, img.width, img.height):
        notes.append(
            f"centre-cropped {img.width}×{img.height} to {box[2] - box[0]}×{box[3] - box[1]}"
        )
        img = img.crop(box)
    th, tw = size
    if (img.width, img.height) != (tw, th):
        if mask:
            resample = Image.Resampling.BOX
        elif tw * th < img.width * img.height:
            resample = Image.Resampling.LANCZOS
        else:
            resample = Image.Resampling.BICUBIC
        notes.append(f"resized {img.width}×{img.height} to {tw}×{th}")
        img = img.resize((tw, th), resample=resample)
    return img


# ---------------------------------------------------------------------------- public loaders
def load_image(
    source: ImageSource, size: int | Sequence[int] | None = None, channels: int = 3
) -> LoadedImage:
    """Read an image into a ``(1, C, H, W)`` tensor in [-1, 1] (rules in the module docstring).

    Args:
        source: a file path, a ``PIL.Image``, a numpy array (``(H, W)`` or ``(H, W, C)``,
            uint8 0..255, uint16, bool, or float in [0, 1]), or an image tensor in [-1, 1]
            (``(C, H, W)`` or ``(1, C, H, W)``).
        size: target ``(H, W)`` (or an int for a square); ``None`` keeps the size.
        channels: 1 (grayscale) or 3 (RGB).

    Returns:
        :class:`LoadedImage` ``(image, notes)``: ``image`` is float32 ``(1, channels, H, W)``
        in [-1, 1]; ``notes`` lists what was converted, cropped or resized.

    Raises:
        ImageLoadError: (a ``ValueError``) missing, empty, unreadable, truncated or too large
            (> 50 megapixels) inputs, and unsupported arrays.
        ValueError: bad ``size`` or ``channels``.
    """
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels}")
    target = _parse_size(size)
    notes: list[str] = []
    img = _normalise_mode(_open(source, notes), notes)
    if img.mode in ("LA", "RGBA"):
        alpha = np.asarray(img.getchannel("A"))
        base = img.mode[:-1]
        if alpha.min() < 255:
            notes.append(f"composited the {img.mode} transparency on white")
            rgba = img.convert("RGBA")
            white = Image.new("RGBA", img.size, (255, 255, 255, 255))
            img = Image.alpha_composite(white, rgba).convert(base)
        else:
            img = img.convert(base)
    if img.mode != ("L" if channels == 1 else "RGB"):
        target_mode = "L" if channels == 1 else "RGB"
        notes.append(f"converted {img.mode} → {target_mode}")
        img = img.convert(target_mode)
    img = _crop_and_resize(img, target, notes)
    return LoadedImage(from_uint8_array(np.asarray(img)), notes)


def load_mask(
    source: ImageSource,
    size: int | Sequence[int] | None = None,
    *,
    drawn_means: str = "observed",
) -> LoadedMask:
    """Read a mask into a boolean ``(H, W)`` tensor with **True = observed**.

    The *marked* pixels of the input are its opaque pixels (alpha > 0) when it has a
    transparency channel that is not fully opaque (a brush layer, as Gradio's ImageEditor
    produces), otherwise its bright pixels (luma ≥ 128: white on black; True/nonzero for
    bool and 0/1 arrays). ``drawn_means`` says what they mark:

    * ``"observed"`` (default): **white / opaque = observed**, black / transparent = missing,
      the convention of ``mgps.operators`` mask files (and RePaint's masks).
    * ``"missing"``: the marks are the region to fill in, as when a user paints over a
      scratch in the app, or the hole masks of LaMa / Stable Diffusion inpainting.

    Resizing follows the same centre crop as :func:`load_image` (so image and mask stay
    aligned), then an area average thresholded at 1/2.

    Args:
        source: as for :func:`load_image`.
        size: target ``(H, W)`` or int; ``None`` keeps the size.
        drawn_means: ``"observed"`` or ``"missing"``.

    Returns:
        :class:`LoadedMask` ``(mask, notes)``.

    Raises:
        ImageLoadError: as for :func:`load_image`.
    """
    if drawn_means not in ("missing", "observed"):
        raise ValueError(f"drawn_means must be 'missing' or 'observed', got {drawn_means!r}")
    target = _parse_size(size)
    notes: list[str] = []
    img = _normalise_mode(_open(source, notes), notes)
    alpha = np.asarray(img.getchannel("A")) if img.mode in ("LA", "RGBA") else None
    if alpha is not None and alpha.min() < 255:
        drawn = alpha > 0
        notes.append("read the mask from the transparency (opaque = marked)")
    else:
        drawn = np.asarray(img.convert("L")) >= 128
    drawn_img = Image.fromarray(drawn.astype(np.uint8) * 255)
    drawn_img = _crop_and_resize(drawn_img, target, notes, mask=True)
    drawn = np.asarray(drawn_img) >= 128
    observed = ~drawn if drawn_means == "missing" else drawn
    if observed.all():
        notes.append("the mask marks no pixel as missing")
    elif not observed.any():
        notes.append("the mask marks every pixel as missing")
    return LoadedMask(torch.from_numpy(observed.copy()), notes)


# ---------------------------------------------------------------------------- tensor → image
def _single(x: Tensor) -> Tensor:
    """``(C, H, W)`` or ``(1, C, H, W)`` → ``(C, H, W)`` detached CPU float."""
    if not isinstance(x, Tensor):
        raise TypeError(f"expected a torch.Tensor, got {type(x).__name__}")
    if x.ndim == 4:
        if x.shape[0] != 1:
            raise ValueError(
                f"expected one image, got a batch of {x.shape[0]}; use image_grid() first"
            )
        x = x[0]
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3 or x.shape[0] not in (1, 3):
        raise ValueError(f"expected an image (C, H, W) with C = 1 or 3, got {tuple(x.shape)}")
    return x.detach().to("cpu", torch.float32)


def to_uint8_array(x: Tensor) -> np.ndarray:
    """Tensor in [-1, 1] → uint8 array (values clamped first).

    Args:
        x: ``(C, H, W)``, ``(1, C, H, W)`` or a batch ``(B, C, H, W)``; C = 1 or 3.

    Returns:
        ``(H, W)`` for grayscale, ``(H, W, 3)`` for RGB; with a leading ``B`` axis for
        ``B > 1`` batches. 0 ↔ -1 and 255 ↔ 1.
    """
    if isinstance(x, Tensor) and x.ndim == 4 and x.shape[0] > 1:
        return np.stack([to_uint8_array(xi) for xi in x])
    img = _single(x)
    if not torch.isfinite(img).all():
        raise ValueError("the image contains NaN or inf values")
    arr = ((img.clamp(-1.0, 1.0) + 1.0) * 127.5).round().to(torch.uint8).permute(1, 2, 0).numpy()
    return arr[..., 0] if arr.shape[2] == 1 else arr


def from_uint8_array(arr: np.ndarray) -> Tensor:
    """uint8 ``(H, W)`` or ``(H, W, C)`` array → ``(1, C, H, W)`` float32 tensor in [-1, 1]."""
    arr = np.asarray(arr)
    if arr.dtype != np.uint8:
        raise ValueError(f"expected a uint8 array, got {arr.dtype}")
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim != 3:
        raise ValueError(f"expected (H, W) or (H, W, C), got shape {arr.shape}")
    x = torch.from_numpy(np.array(arr, copy=True)).permute(2, 0, 1).to(torch.float32)
    return (x / 127.5 - 1.0)[None]


def to_pil(x: Tensor) -> Image.Image:
    """One image tensor in [-1, 1] (clamped) → an 8-bit PIL image (mode L or RGB)."""
    arr = to_uint8_array(_single(x))
    return Image.fromarray(arr)  # mode L for (H, W), RGB for (H, W, 3)


def save_image(x: Tensor, path: str | os.PathLike[str], nrow: int | None = None) -> Path:
    """Write an image tensor in [-1, 1] as a lossless PNG (values clamped to [-1, 1]).

    Args:
        x: ``(C, H, W)`` or ``(B, C, H, W)``; a batch is tiled with :func:`image_grid`
            (``nrow`` per row, default ⌈√B⌉).
        path: destination; must end in ``.png``. Parent folders are created.

    Returns:
        The path written.
    """
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(
            f"save_image writes lossless PNG files; use a .png path, got {path.name!r}"
        )
    if x.ndim == 4 and x.shape[0] > 1:
        x = image_grid(x, nrow=nrow or math.ceil(math.sqrt(x.shape[0])))
    path.parent.mkdir(parents=True, exist_ok=True)
    to_pil(x).save(path, format="PNG")
    return path


def image_grid(
    images: Tensor | Sequence[Tensor], nrow: int = 8, padding: int = 2, pad_value: float = 1.0
) -> Tensor:
    """Tile images into one ``(1, C, H', W')`` tensor in [-1, 1] (as torchvision's make_grid).

    Args:
        images: a ``(B, C, H, W)`` tensor or a sequence of ``(C, H, W)`` / ``(1, C, H, W)``
            tensors of one size; grayscale images are repeated to RGB when mixed with RGB.
        nrow: images per row.
        padding: pixels between images and around the border.
        pad_value: value of the padding in [-1, 1] units (1 = white).

    Returns:
        ``(1, C, H', W')`` with ``C`` = 3 if any input is RGB, else 1.
    """
    if isinstance(images, Tensor):
        if images.ndim == 3:
            images = images[None]
        items = list(images)
    else:
        items = [_single(im) for im in images]
    if not items:
        raise ValueError("image_grid needs at least one image")
    items = [im.detach().to("cpu", torch.float32) for im in items]
    sizes = {tuple(im.shape[1:]) for im in items}
    if len(sizes) != 1:
        raise ValueError(f"all images must have one size (H, W); got {sorted(sizes)}")
    channels = 3 if any(im.shape[0] == 3 for im in items) else 1
    items = [im.expand(channels, -1, -1) if im.shape[0] != channels else im for im in items]
    if nrow < 1:
        raise ValueError(f"nrow must be at least 1, got {nrow}")
    h, w = items[0].shape[1:]
    ncol = min(nrow, len(items))
    nrows = math.ceil(len(items) / ncol)
    grid = torch.full(
        (channels, nrows * (h + padding) + padding, ncol * (w + padding) + padding),
        float(pad_value),
    )
    for k, im in enumerate(items):
        r, c = divmod(k, ncol)
        top, left = padding + r * (h + padding), padding + c * (w + padding)
        grid[:, top : top + h, left : left + w] = im
    return grid[None]
