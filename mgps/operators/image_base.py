"""Pieces shared by the image operators: shape checks, per-device constants, display.

Every image operator acts on a batch ``(B, C, H, W)`` of images in [-1, 1] and is built for
one image shape ``(C, H, W)``. It keeps its constants (masks, kernels, tables) once, in
float64 on the CPU, and hands out copies cast to the dtype and device of the input, cached,
so the same operator serves float32 and float64 on any device.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

__all__ = ["ImageOperator", "image_shape", "describe_shape"]


def describe_shape(shape: Sequence[int]) -> str:
    """``(3, 37, 31)`` -> ``'3×37×31'`` (for messages)."""
    return "×".join(str(int(s)) for s in shape)


def image_shape(name: str, shape: Sequence[int]) -> tuple[int, int, int]:
    """Validate the shape ``(C, H, W)`` of one image and return it as a tuple of ints.

    Raises:
        ValueError: naming the operator, if ``shape`` is not three positive integers.
    """
    try:
        dims = tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name}: expected the shape of one image (C, H, W), got {shape!r}"
        ) from None
    if len(dims) != 3 or min(dims) < 1 or any(d != s for d, s in zip(dims, shape)):
        raise ValueError(
            f"{name}: expected the shape of one image as three positive integers (C, H, W), "
            f"got {tuple(shape)}"
        )
    return dims  # type: ignore[return-value]


class ImageOperator:
    """Common behaviour of the image operators (not a protocol: a convenience base).

    Attributes:
        name: the registry key, used in messages.
        linear: whether ``A`` is linear.
        x_shape: ``(C, H, W)`` of one input image.
    """

    name: str = "image"
    linear: bool = False
    x_shape: tuple[int, int, int]

    def __init__(self, name: str, x_shape: Sequence[int]) -> None:
        self.name = name
        self.x_shape = image_shape(name, x_shape)
        self._constants: dict[tuple, Tensor] = {}

    # -- helpers
    def check_input(self, x: Tensor) -> Tensor:
        """Raise a clear ``ValueError`` unless ``x`` is a batch ``(B, *x_shape)``."""
        if not isinstance(x, Tensor):
            raise TypeError(f"{self.name}: expected a torch.Tensor, got {type(x).__name__}")
        if x.ndim != 4 or tuple(x.shape[1:]) != self.x_shape:
            c, h, w = self.x_shape
            raise ValueError(
                f"{self.name}: expected images of shape (B, {c}, {h}, {w}), got "
                f"{tuple(x.shape)}; this operator was built for {describe_shape(self.x_shape)} "
                "images (build a new one for another size)"
            )
        if not x.is_floating_point():
            raise TypeError(f"{self.name}: expected a floating-point tensor, got {x.dtype}")
        return x

    def constant(self, key: str, value: Tensor, like: Tensor) -> Tensor:
        """``value`` cast to the dtype (floats) and device of ``like``, cached by key."""
        dtype = like.dtype if value.is_floating_point() else value.dtype
        cache_key = (key, dtype, like.device)
        cached = self._constants.get(cache_key)
        if cached is None:
            cached = value.to(device=like.device, dtype=dtype)
            self._constants[cache_key] = cached
        return cached

    # -- display
    def observation_image(self, y: Tensor) -> Tensor:
        """The observation as images ``(B, C', H', W')`` in [-1, 1], to show to a person.

        The default suits operators whose observation is already an image in [-1, 1]
        (blur, HDR, JPEG, super-resolution); the others override it.
        """
        return y.detach().clamp(-1.0, 1.0)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} for {describe_shape(self.x_shape)} images>"
