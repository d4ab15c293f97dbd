"""The 12-lead ECG from the 9 leads the prior models (paper Appendix D.5.1; docs/algorithms.md §9).

The paper models and generates the 9 leads I, II, III, V1–V6 and rebuilds the augmented limb
leads for its metrics. The six limb leads are projections of the heart's frontal-plane vector on
six axes, so only two of them are independent:

* Einthoven:   III = II − I
* Goldberger:  aVR = −(I + II)/2,  aVL = (I − III)/2,  aVF = (II + III)/2

(with Einthoven, aVL = I − II/2 and aVF = II − I/2, and aVR + aVL + aVF = 0 always).
The helpers below use the model's own III, as the paper does; :func:`einthoven_residual`
measures how far a 9-lead signal is from satisfying Einthoven's law.

Every helper takes a torch tensor or a numpy array ``(..., 9, L)`` (leads on the second-last
axis) and returns the same kind.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "LEADS_9",
    "LEADS_12",
    "MISSING_LEADS_12",
    "augmented_leads",
    "twelve_leads",
    "einthoven_residual",
    "with_einthoven",
]

ArrayT = TypeVar("ArrayT", Tensor, np.ndarray)

LEADS_9: tuple[str, ...] = ("I", "II", "III", "V1", "V2", "V3", "V4", "V5", "V6")
"""The leads the prior models, in channel order."""

LEADS_12: tuple[str, ...] = (
    "I",
    "II",
    "III",
    "aVR",
    "aVL",
    "aVF",
    "V1",
    "V2",
    "V3",
    "V4",
    "V5",
    "V6",
)
"""The standard 12-lead order returned by :func:`twelve_leads`."""

MISSING_LEADS_12: tuple[int, ...] = tuple(range(1, 12))
"""Indices (in :data:`LEADS_12`) of the leads not observed in the missing-leads task (all but I)."""


def _check(x9: ArrayT) -> ArrayT:
    if not isinstance(x9, Tensor | np.ndarray):
        raise TypeError(f"expected a torch tensor or numpy array, got {type(x9).__name__}")
    if x9.ndim < 2 or x9.shape[-2] != len(LEADS_9):
        raise ValueError(
            f"expected leads on the second-last axis, shape (..., 9, L) in the order "
            f"{', '.join(LEADS_9)}; got shape {tuple(x9.shape)}"
        )
    return x9


def _stack(parts: list, like: ArrayT) -> ArrayT:
    if isinstance(like, Tensor):
        return torch.stack(parts, dim=-2)
    return np.stack(parts, axis=-2)


def _cat(parts: list, like: ArrayT) -> ArrayT:
    if isinstance(like, Tensor):
        return torch.cat(parts, dim=-2)
    return np.concatenate(parts, axis=-2)


def augmented_leads(x9: ArrayT) -> ArrayT:
    """Goldberger's augmented leads ``(..., 3, L)`` = (aVR, aVL, aVF) from the 9 leads.

    aVR = −(I + II)/2, aVL = (I − III)/2, aVF = (II + III)/2.

    Args:
        x9: ``(..., 9, L)`` in the order of :data:`LEADS_9`.

    Returns:
        ``(..., 3, L)``, same type and dtype as ``x9``.
    """
    x9 = _check(x9)
    lead_i, lead_ii, lead_iii = x9[..., 0, :], x9[..., 1, :], x9[..., 2, :]
    return _stack([-(lead_i + lead_ii) / 2, (lead_i - lead_iii) / 2, (lead_ii + lead_iii) / 2], x9)


def twelve_leads(x9: ArrayT) -> ArrayT:
    """The standard 12 leads ``(..., 12, L)`` in the order of :data:`LEADS_12`.

    I, II, III and V1–V6 are copied; aVR, aVL, aVF come from :func:`augmented_leads`.
    """
    x9 = _check(x9)
    return _cat([x9[..., 0:3, :], augmented_leads(x9), x9[..., 3:9, :]], x9)


def einthoven_residual(x9: ArrayT) -> ArrayT:
    """III − (II − I), ``(..., L)``: zero for a signal that obeys Einthoven's law."""
    x9 = _check(x9)
    return x9[..., 2, :] - (x9[..., 1, :] - x9[..., 0, :])


def with_einthoven(x9: ArrayT) -> ArrayT:
    """A copy of ``x9`` with lead III replaced by II − I."""
    x9 = _check(x9)
    out = x9.clone() if isinstance(x9, Tensor) else x9.copy()
    out[..., 2, :] = x9[..., 1, :] - x9[..., 0, :]
    return out
