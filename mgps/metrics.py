"""Distances between sample sets and between Gaussians, and image quality metrics.

Image metrics take tensors ``(B, C, H, W)`` (or one ``(C, H, W)`` image) in [-1, 1] and return
one value per image, as in the paper's released code (docs/algorithms.md §6): PSNR on [0, 1] with peak 1 (equivalently on
[-1, 1] with ``data_range = 2``) and SSIM with an 11×11 Gaussian window, σ = 1.5.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.spatial
import scipy.stats
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "sliced_wasserstein",
    "random_directions",
    "gaussian_w2",
    "psnr",
    "ssim",
    "t_interval",
    "energy_terms",
]


INTERVAL_METHODS = ("student-t", "normal")


def t_interval(values, *, method: str = "student-t") -> tuple[float, float]:
    """Mean and 95 % half-width of the finite ``values`` (half-width NaN for one value): every
    interval the library, the app and the tables print.

    ``method="student-t"`` (the default): t_{0.975, n−1} · s/√n. ``method="normal"``: the
    normal approximation 1.96 · s/√n, which the Gaussian-mixture table (``mgps gmm table``,
    as the paper's) has always printed; kept as an explicit option so that its committed
    numbers do not move.
    """
    if method not in INTERVAL_METHODS:
        raise ValueError(f"method must be one of {', '.join(INTERVAL_METHODS)}; got {method!r}")
    v = np.asarray([x for x in values if np.isfinite(x)], dtype=float)
    if v.size == 0:
        return float("nan"), float("nan")
    if v.size == 1:
        return float(v[0]), float("nan")
    quantile = scipy.stats.t.ppf(0.975, v.size - 1) if method == "student-t" else 1.96
    return float(v.mean()), float(quantile * v.std(ddof=1) / np.sqrt(v.size))


def energy_terms(samples: Tensor | np.ndarray, reference: Tensor | np.ndarray) -> np.ndarray:
    """Per-sample terms of the energy distance between the law Q of ``samples`` ``(n, ...)``
    and the law P of ``reference`` ``(m, ...)`` (e.g. exact posterior draws), in RMS pixel
    units (distances divided by √d):

        D(Q, P) = 2 E‖X − Y‖ − E‖X − X′‖ − E‖Y − Y′‖,   X, X′ ~ Q,  Y, Y′ ~ P,

    which is 0 if and only if Q = P. Term i is 2·mean_j ‖x_i − y_j‖ − mean_{k≠i} ‖x_i − x_k‖
    − mean_{j≠l} ‖y_j − y_l‖; their mean is the unbiased (U-statistic) estimate of D, so an exact
    sampler scores 0 on average (single runs scatter around it). Needs n ≥ 2 and m ≥ 2.
    """
    xs = np.asarray(
        samples.detach().cpu() if isinstance(samples, Tensor) else samples, dtype=np.float64
    )
    ys = np.asarray(
        reference.detach().cpu() if isinstance(reference, Tensor) else reference,
        dtype=np.float64,
    )
    xs, ys = xs.reshape(len(xs), -1), ys.reshape(len(ys), -1)
    if xs.shape[1] != ys.shape[1]:
        raise ValueError(f"sample dimensions differ: {xs.shape[1]} vs {ys.shape[1]}")
    n, m = len(xs), len(ys)
    if n < 2 or m < 2:
        raise ValueError(f"the energy distance needs at least 2 samples of each; got {n} and {m}")
    scale = np.sqrt(xs.shape[1])
    between = scipy.spatial.distance.cdist(xs, ys).mean(1) / scale
    within_x = scipy.spatial.distance.cdist(xs, xs).sum(1) / (n - 1) / scale
    within_y = scipy.spatial.distance.pdist(ys).mean() / scale
    return 2 * between - within_x - within_y


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
        num_slices: number of directions (Appendix D.3: 100).
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


# ---------------------------------------------------------------------------- image metrics
def _image_pair(x: Tensor, ref: Tensor) -> tuple[Tensor, Tensor]:
    """Validate and broadcast two image batches to ``(B, C, H, W)`` float64."""
    if not isinstance(x, Tensor) or not isinstance(ref, Tensor):
        raise TypeError("psnr/ssim take torch tensors in [-1, 1]")
    x = x[None] if x.ndim == 3 else x
    ref = ref[None] if ref.ndim == 3 else ref
    if x.ndim != 4 or ref.ndim != 4:
        raise ValueError(
            f"images must be (B, C, H, W) or (C, H, W); got {tuple(x.shape)} and {tuple(ref.shape)}"
        )
    if x.shape[1:] != ref.shape[1:]:
        raise ValueError(
            f"image shapes differ: {tuple(x.shape[1:])} vs reference {tuple(ref.shape[1:])}"
        )
    if ref.shape[0] not in (1, x.shape[0]) and x.shape[0] != 1:
        raise ValueError(f"batch sizes {x.shape[0]} and {ref.shape[0]} do not broadcast")
    x = x.detach().to(torch.float64)
    ref = ref.detach().to(device=x.device, dtype=torch.float64)
    x, ref = torch.broadcast_tensors(x, ref)
    return x, ref


def psnr(x: Tensor, ref: Tensor, data_range: float = 2.0) -> Tensor:
    """Peak signal-to-noise ratio per image, in dB.

    PSNR = 10 log10(data_range² / MSE), the MSE over all pixels and channels of each image.
    With the default ``data_range = 2`` on [-1, 1] images this equals PSNR on the [0, 1]
    images with peak 1 (docs/algorithms.md §6). Identical images give ``inf``. Inputs are not clamped.

    Args:
        x: ``(B, C, H, W)`` or ``(C, H, W)`` images in [-1, 1].
        ref: reference, same shape (a batch of one broadcasts).
        data_range: peak-to-peak range of the data (2 for [-1, 1]).

    Returns:
        ``(B,)`` float64 tensor.
    """
    x, ref = _image_pair(x, ref)
    mse = (x - ref).pow(2).flatten(1).mean(1)
    return 10.0 * torch.log10(float(data_range) ** 2 / mse)


def _gaussian_window(size: int, sigma: float, dtype: torch.dtype, device: torch.device) -> Tensor:
    coords = torch.arange(size, dtype=dtype, device=device) - (size - 1) / 2.0
    g = torch.exp(-(coords**2) / (2.0 * sigma**2))
    g = g / g.sum()
    return torch.outer(g, g)


def ssim(x: Tensor, ref: Tensor, *, window_size: int = 11, sigma: float = 1.5) -> Tensor:
    """Structural similarity (Wang et al. 2004) per image, averaged over channels.

    Both images are mapped from [-1, 1] to [0, 1] (data range 1), then local means,
    variances and covariance are taken with a normalised ``window_size``² Gaussian window
    (σ = ``sigma``) over the *valid* region (no padding), with K1 = 0.01, K2 = 0.03,
    C1 = K1², C2 = K2² and population (not sample) covariances. This matches
    ``skimage.metrics.structural_similarity(..., gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False, data_range=1)`` and Wang et al.'s reference code.

    Images smaller than the window: the window shrinks to the largest odd size that fits,
    ``w = min(H, W)`` (minus one if even), with σ scaled by ``w / window_size``; a 1-pixel
    image compares single values.

    Args:
        x: ``(B, C, H, W)`` or ``(C, H, W)`` images in [-1, 1].
        ref: reference, same shape (a batch of one broadcasts).
        window_size: odd window width (11).
        sigma: Gaussian standard deviation of the window (1.5).

    Returns:
        ``(B,)`` float64 tensor; 1 for identical images.
    """
    if window_size < 1 or window_size % 2 == 0:
        raise ValueError(f"window_size must be a positive odd integer, got {window_size}")
    x, ref = _image_pair(x, ref)
    x, ref = (x + 1.0) / 2.0, (ref + 1.0) / 2.0
    B, C, H, W = x.shape
    size = min(window_size, H, W)
    size -= 1 - size % 2  # largest odd size that fits
    sig = sigma * size / window_size
    window = _gaussian_window(size, sig, x.dtype, x.device)[None, None].repeat(C, 1, 1, 1)

    def filt(img: Tensor) -> Tensor:
        return F.conv2d(img, window, groups=C)

    c1, c2 = 0.01**2, 0.03**2
    mu_x, mu_r = filt(x), filt(ref)
    var_x = filt(x * x) - mu_x**2
    var_r = filt(ref * ref) - mu_r**2
    cov = filt(x * ref) - mu_x * mu_r
    num = (2 * mu_x * mu_r + c1) * (2 * cov + c2)
    den = (mu_x**2 + mu_r**2 + c1) * (var_x + var_r + c2)
    return (num / den).flatten(1).mean(1)
