"""Distances between sample sets and between Gaussians."""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.stats
import torch
from torch import Tensor

__all__ = ["sliced_wasserstein", "random_directions", "gaussian_w2"]


def random_directions(dim: int, num_slices: int = 100, seed: int = 0) -> np.ndarray:
    """``(num_slices, dim)`` unit vectors, Gaussian draws normalised (fixed by ``seed``)."""
    rng = np.random.default_rng(seed)
    directions = rng.standard_normal((num_slices, dim))
    return directions / np.linalg.norm(directions, axis=1, keepdims=True)


def sliced_wasserstein(
    x: Tensor | np.ndarray,
    y: Tensor | np.ndarray,
    num_slices: int = 100,
    seed: int = 0,
    directions: np.ndarray | None = None,
) -> float:
    """Sliced Wasserstein-1 distance: the mean over random directions θ of W1(⟨x, θ⟩, ⟨y, θ⟩).

    Args:
        x, y: ``(n, d)`` and ``(m, d)`` samples (flattened beyond the first dim).
        num_slices: number of directions (spec §6.4: 100).
        seed: seed of the directions, so two calls compare on the same slices.
        directions: explicit ``(num_slices, d)`` unit directions (overrides the two above).
    """
    xs = np.asarray(x.detach().cpu() if isinstance(x, Tensor) else x, dtype=np.float64).reshape(
        len(x), -1
    )
    ys = np.asarray(y.detach().cpu() if isinstance(y, Tensor) else y, dtype=np.float64).reshape(
        len(y), -1
    )
    if xs.shape[1] != ys.shape[1]:
        raise ValueError(f"sample dimensions differ: {xs.shape[1]} vs {ys.shape[1]}")
    if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
        raise ValueError("samples contain NaN or inf")
    if directions is None:
        directions = random_directions(xs.shape[1], num_slices, seed)
    px, py = xs @ directions.T, ys @ directions.T
    return float(
        np.mean([scipy.stats.wasserstein_distance(px[:, k], py[:, k]) for k in range(px.shape[1])])
    )


def gaussian_w2(mean1: Tensor, cov1: Tensor, mean2: Tensor, cov2: Tensor) -> float:
    """W2 between N(m1, C1) and N(m2, C2): √(‖m1 − m2‖² + tr(C1 + C2 − 2 (C1^½ C2 C1^½)^½))."""
    m1, m2 = (np.asarray(torch.as_tensor(m, dtype=torch.float64).cpu()) for m in (mean1, mean2))
    c1, c2 = (np.asarray(torch.as_tensor(c, dtype=torch.float64).cpu()) for c in (cov1, cov2))
    root1 = _psd_sqrt(c1)
    cross = _psd_sqrt(root1 @ c2 @ root1)
    w2_sq = float(np.sum((m1 - m2) ** 2) + np.trace(c1 + c2 - 2 * cross))
    return float(np.sqrt(max(w2_sq, 0.0)))


def _psd_sqrt(c: np.ndarray) -> np.ndarray:
    """Square root of a symmetric PSD matrix (eigenvalues clipped at 0)."""
    c = 0.5 * (c + c.T)
    vals, vecs = scipy.linalg.eigh(c)
    return (vecs * np.sqrt(np.clip(vals, 0, None))) @ vecs.T
