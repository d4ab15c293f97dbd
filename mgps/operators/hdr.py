"""High dynamic range reconstruction (``hdr``): ``H(x) = clip(2x, −1, 1)``.

The task of Mardani et al. (RED-diff, §5.2) used in the paper (``docs/algorithms.md`` §5): the image
is over-exposed by a factor 2 and the sensor saturates, so every pixel with ``|x| > 1/2`` is
clipped to ±1. The operator is nonlinear (its gradient is zero on the clipped pixels).

``A_pinv(y) = y / 2`` inverts the map exactly where it did not saturate (``|y| < 1``) and sends
a saturated pixel to the smallest value that explains it (±1/2).
"""

from __future__ import annotations

from torch import Tensor

from ..registry import OPERATORS
from .image_base import ImageOperator, image_shape

__all__ = ["HighDynamicRange", "hdr"]


class HighDynamicRange(ImageOperator):
    """``clip(2x, −1, 1)``, elementwise; any image size.

    Args:
        x_shape: ``(C, H, W)``.
        name: the registry key, used in messages.
    """

    linear = False

    def A(self, x: Tensor) -> Tensor:
        """``clip(2x, −1, 1)``, same shape as ``x``."""
        return (2.0 * self.check_input(x)).clamp(-1.0, 1.0)

    def A_pinv(self, y: Tensor) -> Tensor:
        """``y / 2``: exact on unsaturated pixels, ±1/2 on saturated ones."""
        return y.reshape(y.shape[0], *self.x_shape) / 2.0


@OPERATORS.register(
    "hdr",
    label="High dynamic range",
    tags={"image"},
    reference="Moufad et al. 2025, §5; Mardani et al. 2024 (RED-diff) §5.2: clip(2x, −1, 1)",
)
def hdr(shape: tuple[int, int, int]) -> HighDynamicRange:
    """Over-expose by 2 and clip to [-1, 1] (any image size)."""
    return HighDynamicRange("hdr", image_shape("hdr", shape))


hdr.test_shapes = ((3, 37, 31), (1, 28, 28))  # type: ignore[attr-defined]
