"""Sample-quality statistics for the ECG prior (for its model card) and a small PNG plot.

* **Unconditional samples**: ancestral DDPM sampling on a spaced grid of the padded times
  (:func:`mgps.schedules.ddpm_step`, η = 1), no observation.
* **Einthoven consistency**: mean |III − (II − I)|. The training data obey it exactly, so a
  good prior's samples should too; the model is not told about the relation.
* **Heart rate**: per window, from the autocorrelation of a QRS-energy signal (the sum over
  leads of |Δx|, centred): the lag of the highest autocorrelation peak between 0.33 s and
  1.5 s (40–180 bpm), refined by a parabola; HR = 60·fs/lag.
* **Spectrum**: the mean power spectrum (|rfft|² of each centred lead, averaged over leads and
  windows); the distance is the mean |log10 P_samples − log10 P_reference| over 0.4–50 Hz.
* **Amplitude**: mean per-lead standard deviation and peak-to-peak amplitude.
* **Nearest neighbours**: the RMS distance of each window to its nearest training window,
  for samples and for test windows (a sample much closer than test windows are suggests
  memorisation).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..schedules import ddpm_step, spaced_timesteps
from ..types import Prior
from .leads import LEADS_9, einthoven_residual

__all__ = [
    "unconditional_samples",
    "heart_rate_bpm",
    "mean_spectrum",
    "quality_report",
    "nearest_neighbour_rms",
    "plot_windows_png",
]


@torch.no_grad()
def unconditional_samples(
    prior: Prior, num_samples: int, num_steps: int = 100, generator: torch.Generator | None = None
) -> Tensor:
    """``(num_samples, *prior.shape)`` draws from the prior by DDPM ancestral sampling."""
    acp = prior.alphas_cumprod
    grid = spaced_timesteps(acp.numel() - 1, num_steps)
    x = torch.randn((num_samples, *prior.shape), generator=generator, dtype=prior.dtype)
    x0 = x
    for t, t_prev in zip(reversed(grid[1:]), reversed(grid[:-1])):
        x0 = prior.x0_pred(x, t)
        x = ddpm_step(acp, t_prev, t, x, x0, generator)
    return x0


def heart_rate_bpm(x: np.ndarray, sampling_rate: float = 100.0) -> np.ndarray:
    """Heart rate (bpm) of each window ``(N, C, L)`` from the autocorrelation (see module doc).

    Returns NaN for a window without a clear peak in 40–180 bpm.
    """
    x = np.asarray(x, dtype=np.float64)
    energy = np.abs(np.diff(x, axis=-1)).sum(axis=1)  # (N, L-1)
    energy = energy - energy.mean(axis=1, keepdims=True)
    n = energy.shape[1]
    spec = np.fft.rfft(energy, 2 * n, axis=1)
    ac = np.fft.irfft(np.abs(spec) ** 2, axis=1)[:, :n]
    ac = ac / np.maximum(ac[:, :1], 1e-12)
    lo, hi = int(math.ceil(sampling_rate * 60 / 180)), int(sampling_rate * 60 / 40)
    hi = min(hi, n - 2)
    out = np.full(len(x), np.nan)
    for i, a in enumerate(ac):
        seg = a[lo : hi + 1]
        peaks = [k for k in range(1, len(seg) - 1) if seg[k] >= seg[k - 1] and seg[k] >= seg[k + 1]]
        if not peaks:
            continue
        k = max(peaks, key=lambda j: seg[j])
        if seg[k] < 0.1:
            continue
        den = seg[k - 1] - 2 * seg[k] + seg[k + 1]
        shift = 0.5 * (seg[k - 1] - seg[k + 1]) / den if den != 0 else 0.0
        out[i] = 60.0 * sampling_rate / (lo + k + shift)
    return out


def mean_spectrum(x: np.ndarray, sampling_rate: float = 100.0) -> tuple[np.ndarray, np.ndarray]:
    """``(freqs, power)``: |rfft|² of each centred lead, averaged over leads and windows."""
    x = np.asarray(x, dtype=np.float64)
    x = x - x.mean(axis=-1, keepdims=True)
    power = (np.abs(np.fft.rfft(x, axis=-1)) ** 2).mean(axis=(0, 1)) / x.shape[-1]
    return np.fft.rfftfreq(x.shape[-1], 1.0 / sampling_rate), power


def nearest_neighbour_rms(x: np.ndarray, bank: np.ndarray, chunk: int = 256) -> np.ndarray:
    """RMS distance of each window of ``x`` to its nearest window in ``bank``."""
    xf = np.asarray(x, dtype=np.float32).reshape(len(x), -1)
    bf = np.asarray(bank, dtype=np.float32).reshape(len(bank), -1)
    b2 = (bf**2).sum(1)
    best = np.full(len(xf), np.inf)
    for s in range(0, len(bf), chunk):
        d = (xf**2).sum(1)[:, None] - 2 * xf @ bf[s : s + chunk].T + b2[None, s : s + chunk]
        best = np.minimum(best, d.min(1))
    return np.sqrt(np.maximum(best, 0.0) / xf.shape[1])


def _summary(x: np.ndarray, sampling_rate: float) -> dict[str, Any]:
    hr = heart_rate_bpm(x, sampling_rate)
    ok = hr[np.isfinite(hr)]
    return {
        "n": int(len(x)),
        "einthoven_mae": float(np.abs(einthoven_residual(x)).mean()),
        "heart_rate_mean": float(ok.mean()) if ok.size else math.nan,
        "heart_rate_std": float(ok.std()) if ok.size else math.nan,
        "heart_rate_found": float(ok.size / max(len(x), 1)),
        "lead_std": [float(v) for v in x.std(axis=-1).mean(0)],
        "peak_to_peak": float((x.max(-1) - x.min(-1)).mean()),
    }


def quality_report(
    samples: np.ndarray,
    reference: np.ndarray,
    train: np.ndarray | None = None,
    sampling_rate: float = 100.0,
) -> dict[str, Any]:
    """Compare model samples with reference (test) windows, both ``(N, 9, L)``.

    Returns:
        ``{"samples": {...}, "reference": {...}, "log_spectral_distance": float, ...}`` with
        the statistics of the module docstring (and nearest-neighbour distances to ``train``
        when given).
    """
    samples = np.asarray(samples, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    f, ps = mean_spectrum(samples, sampling_rate)
    _, pr = mean_spectrum(reference, sampling_rate)
    band = (f >= 0.4) & (f <= 50.0)
    report: dict[str, Any] = {
        "samples": _summary(samples, sampling_rate),
        "reference": _summary(reference, sampling_rate),
        "log_spectral_distance": float(
            np.abs(np.log10(ps[band] + 1e-12) - np.log10(pr[band] + 1e-12)).mean()
        ),
        "leads": list(LEADS_9),
    }
    if train is not None:
        report["nn_rms_samples_to_train"] = float(nearest_neighbour_rms(samples, train).mean())
        report["nn_rms_reference_to_train"] = float(
            nearest_neighbour_rms(reference[: len(samples)], train).mean()
        )
    return report


def plot_windows_png(
    path: str | os.PathLike[str],
    columns: list[tuple[str, np.ndarray]],
    *,
    lead_names: tuple[str, ...] = LEADS_9,
    lead_height: int = 46,
    width: int = 260,
) -> Path:
    """Draw windows ``(C, L)`` side by side, one lead per row, as a PNG (Pillow only).

    Args:
        path: output file.
        columns: ``(title, window)`` pairs; windows are ``(C, L)`` arrays.
        lead_names: row labels.
        lead_height, width: pixel size of one lead trace.
    """
    from PIL import Image, ImageDraw

    n_cols = len(columns)
    n_rows = columns[0][1].shape[0]
    left, top, gap = 34, 18, 8
    img = Image.new("RGB", (left + n_cols * (width + gap), top + n_rows * lead_height + 4), "white")
    draw = ImageDraw.Draw(img)
    lim = max(float(np.nanmax(np.abs(w))) for _, w in columns) or 1.0
    for j, (title, w) in enumerate(columns):
        x0 = left + j * (width + gap)
        draw.text((x0 + 4, 2), title, fill=(0, 0, 0))
        colour = (200, 40, 40) if "sample" in title.lower() else (30, 60, 160)
        length = w.shape[-1]
        for i in range(n_rows):
            y_mid = top + i * lead_height + lead_height / 2
            draw.line([(x0, y_mid), (x0 + width, y_mid)], fill=(225, 225, 225))
            pts = [
                (x0 + width * k / (length - 1), y_mid - 0.5 * lead_height * float(w[i, k]) / lim)
                for k in range(length)
                if np.isfinite(w[i, k])
            ]
            if len(pts) > 1:
                draw.line(pts, fill=colour, width=1)
            if j == 0:
                draw.text(
                    (2, y_mid - 6), lead_names[i] if i < len(lead_names) else str(i), fill=(0, 0, 0)
                )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return path
