"""Utilities: image conversions between files / PIL / numpy and tensors in [-1, 1]."""

from .images import (
    MAX_PIXELS,
    ImageLoadError,
    LoadedImage,
    LoadedMask,
    from_uint8_array,
    image_grid,
    load_image,
    load_mask,
    save_image,
    to_pil,
    to_uint8_array,
)

__all__ = [
    "MAX_PIXELS",
    "ImageLoadError",
    "LoadedImage",
    "LoadedMask",
    "from_uint8_array",
    "image_grid",
    "load_image",
    "load_mask",
    "save_image",
    "to_pil",
    "to_uint8_array",
]
