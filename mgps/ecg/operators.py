"""The paper's two ECG inverse problems as masks on ``(leads, time)`` windows (docs/algorithms.md §9).

* ``ecg_missing_leads`` (ML): observe some leads, by default lead I only (y = x[:, 0, :]),
  and reconstruct the other eight of I, II, III, V1–V6 (the paper then rebuilds aVR, aVL, aVF,
  :func:`mgps.ecg.leads.twelve_leads`).
* ``ecg_missing_block`` (MB): a contiguous block of the window is missing on every lead; by
  default the second half (forecasting, "half of the signal is missing and reconstructed from
  the other half"). ``block="random"`` picks one of the two halves with ``seed``, like SSSD's
  "bm" mask used by the third author's later ECG code; ``start`` sets the block's start directly.

A mask ``M ∈ {0, 1}^(C×L)`` (1 = observed) is the linear map ``y = x.flatten(1)[:, M]`` (the
observed entries, channel-major). Its SVD is trivial (as DDRM's inpainting H-function): ``V``
is the permutation listing the observed entries first, ``s = 1`` and ``U = I``; so
``Aᵀ y`` = ``A⁺ y`` puts y back at the observed entries with zeros elsewhere. The Gaussian
likelihood on y is the paper's likelihood on the observed entries only, with σ_y = 0.05
(docs/algorithms.md §3).

Factories take ``shape = (9, L)`` (any length L ≥ 2) and keyword parameters; their
``test_shape`` / ``test_shapes`` attributes give the small shapes the generic operator tests use.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

from ..operators.selection import SelectionOperator
from ..registry import OPERATORS, Param
from .leads import LEADS_9

__all__ = [
    "EcgMaskOperator",
    "missing_leads",
    "missing_block",
    "block_bounds",
    "parse_leads",
    "ecg_shape",
]

TEST_SHAPES = ((9, 64), (9, 256), (9, 7))


def ecg_shape(name: str, shape: Sequence[int]) -> tuple[int, int]:
    """Validate ``(leads, length)`` = ``(9, L)`` with L ≥ 2 and return it as ints."""
    try:
        dims = tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name}: expected the shape (9, L) of one ECG window, got {shape!r}"
        ) from None
    if len(dims) != 2 or dims[0] != len(LEADS_9) or dims[1] < 2:
        raise ValueError(
            f"{name}: expected the shape (9, L) of one ECG window (leads "
            f"{', '.join(LEADS_9)}; L ≥ 2 samples), got {tuple(shape)}"
        )
    return dims  # type: ignore[return-value]


class EcgMaskOperator(SelectionOperator):
    """Keep the entries of a ``(C, L)`` window where ``mask`` is true.

    Args:
        mask: bool ``(C, L)``, True = observed; must observe something and drop something.
        name: the registry key, used in messages.

    Attributes:
        x_shape: ``(C, L)``.
        mask: the bool mask (CPU).
        observed_index, missing_index: flat indices (channel-major) of the two parts.
    """

    def __init__(self, mask: Tensor, name: str = "ecg_mask") -> None:
        mask = torch.as_tensor(mask).to(torch.bool).cpu()
        if mask.ndim != 2:
            raise ValueError(f"{name}: expected a mask of shape (C, L), got {tuple(mask.shape)}")
        n_observed = int(mask.sum())
        if n_observed == 0 or n_observed == mask.numel():
            raise ValueError(
                f"{name}: the mask must observe some entries and leave some missing "
                f"(it observes {n_observed} of {mask.numel()})"
            )
        self.name = name
        self._set_mask(mask)

    def check_input(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor):
            raise TypeError(f"{self.name}: expected a torch.Tensor, got {type(x).__name__}")
        if x.ndim != 3 or tuple(x.shape[1:]) != self.x_shape:
            c, n = self.x_shape
            raise ValueError(
                f"{self.name}: expected ECG windows of shape (B, {c}, {n}), got {tuple(x.shape)}; "
                "build a new operator for another length"
            )
        return x

    def observation_signal(self, y: Tensor, fill: float = math.nan) -> Tensor:
        """The observation put back in a ``(B, C, L)`` window, missing entries = ``fill``
        (NaN by default, so plots leave gaps)."""
        return self._scatter(y.detach(), fill)

    def __repr__(self) -> str:
        c, n = self.x_shape
        return f"<{type(self).__name__} {self.name!r} for {c}×{n} windows, {self.y_dim} observed>"


# --------------------------------------------------------------------------- missing leads
def parse_leads(text: str | Sequence[str]) -> list[int]:
    """``"I"`` or ``"I,II"`` or ``["I", "V1"]`` -> channel indices in :data:`LEADS_9`."""
    names = [s.strip() for s in (text.split(",") if isinstance(text, str) else text)]
    names = [n for n in names if n]
    lookup = {n.lower(): i for i, n in enumerate(LEADS_9)}
    bad = [n for n in names if n.lower() not in lookup]
    if not names or bad:
        raise ValueError(
            f"ecg_missing_leads: unknown lead(s) {', '.join(bad) or '(none given)'}; observe one "
            f"or more of {', '.join(LEADS_9)} (comma-separated)"
        )
    return sorted({lookup[n.lower()] for n in names})


@OPERATORS.register(
    "ecg_missing_leads",
    label="ECG: missing leads (observe lead I)",
    params=(
        Param(
            "leads",
            help="observed leads, comma-separated among I, II, III, V1–V6 (default lead I only)",
        ),
    ),
    tags={"ecg"},
    reference="Moufad et al. 2025, §4.2 (ML task: reconstruct the 12 leads from lead I)",
)
def missing_leads(shape: Sequence[int] = (9, 256), *, leads: str = "I") -> EcgMaskOperator:
    """Observe only some leads (default lead I: y = x[:, 0, :]); the others are missing."""
    c, n = ecg_shape("ecg_missing_leads", shape)
    observed = parse_leads(leads)
    if len(observed) == c:
        raise ValueError("ecg_missing_leads: every lead is observed, so nothing is missing")
    mask = torch.zeros(c, n, dtype=torch.bool)
    mask[observed] = True
    return EcgMaskOperator(mask, name="ecg_missing_leads")


missing_leads.test_shape = TEST_SHAPES[0]  # type: ignore[attr-defined]
missing_leads.test_shapes = TEST_SHAPES  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- missing block
def block_bounds(
    length: int,
    *,
    block: str = "second",
    start: float | None = None,
    fraction: float = 0.5,
    seed: int = 0,
) -> tuple[int, int]:
    """``[t0, t1)`` of the missing block on a time axis of ``length`` samples.

    Args:
        length: samples per window.
        block: ``"second"`` (the last ``fraction``: forecasting, the default), ``"first"``, or
            ``"random"`` (one of the ``⌊1/fraction⌋`` consecutive blocks, chosen with ``seed``,
            as SSSD's "bm" mask).
        start: if given, the block starts at ``round(start · length)`` (overrides ``block``).
        fraction: block length as a share of the window (0.5: half the window).
        seed: seed of the ``"random"`` choice.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"ecg_missing_block: fraction must lie in (0, 1), got {fraction}")
    size = max(1, min(length - 1, int(round(fraction * length))))
    if start is not None:
        if not 0.0 <= start < 1.0:
            raise ValueError(f"ecg_missing_block: start must lie in [0, 1), got {start}")
        t0 = min(int(round(start * length)), length - size)
    elif block == "second":
        t0 = length - size
    elif block == "first":
        t0 = 0
    elif block == "random":
        n_blocks = max(1, length // size)
        k = int(torch.randint(n_blocks, (1,), generator=torch.Generator().manual_seed(int(seed))))
        t0 = min(k * size, length - size)
    else:
        raise ValueError(
            f"ecg_missing_block: block must be 'second', 'first' or 'random', got {block!r}"
        )
    return t0, t0 + size


@OPERATORS.register(
    "ecg_missing_block",
    label="ECG: missing block (second half, all leads)",
    params=(
        Param(
            "block",
            choices=("second", "first", "random"),
            help="which half is missing: second (forecasting), first, or random (with seed)",
        ),
        Param(
            "start",
            low=0.0,
            high=0.99,
            step=0.01,
            help="start of the missing block as a share of the window (overrides block)",
        ),
        Param("fraction", low=0.01, high=0.99, step=0.01, help="length of the missing block"),
        Param("seed", low=0, high=2**31 - 1, step=1, help="seed of block='random'"),
    ),
    tags={"ecg"},
    reference="Moufad et al. 2025, §4.2 (MB task: half of the 2.56-s window missing on all leads)",
)
def missing_block(
    shape: Sequence[int] = (9, 256),
    *,
    block: str = "second",
    start: float | None = None,
    fraction: float = 0.5,
    seed: int = 0,
) -> EcgMaskOperator:
    """A block of ``fraction`` of the window missing on every lead (default: the second half)."""
    c, n = ecg_shape("ecg_missing_block", shape)
    t0, t1 = block_bounds(n, block=block, start=start, fraction=fraction, seed=seed)
    mask = torch.ones(c, n, dtype=torch.bool)
    mask[:, t0:t1] = False
    return EcgMaskOperator(mask, name="ecg_missing_block")


missing_block.test_shape = TEST_SHAPES[0]  # type: ignore[attr-defined]
missing_block.test_shapes = TEST_SHAPES  # type: ignore[attr-defined]
